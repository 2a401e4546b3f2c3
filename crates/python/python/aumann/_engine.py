"""The engine for any model: path attribution of a Python function, exact
and permutation Shapley of a coalition function."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

from . import _native
from ._errors import ConvergenceWarning, InvalidInputError, whole, whole_or_none

_D = _native.DEFAULTS

#: f(points) -> (values, gradients): points has shape (k, *x.shape), values
#: (k,), gradients the shape of points.
PathFunction = Callable[[np.ndarray], Tuple[Any, Any]]
#: v(coalitions) -> values: coalitions is a bool array (k, players).
CoalitionFunction = Callable[[np.ndarray], Any]


@dataclass(frozen=True)
class PathAttribution:
    """Aumann–Shapley attributions of F(x) - F(baseline), with what says
    how far to trust them.

    ``phi`` and ``error`` have the shape of x; ``error`` is the per-input
    estimate of |phi - exact|: how far phi moved from the level before
    (a magnitude, never negative). ``converged`` is whether the relative
    gap is within the tolerance (with ``nodes`` fixed, the default 1e-6).
    ``convergence_delta`` is sum(phi) - (F(x) - F(baseline)), as Captum
    names it; ``levels`` lists (nodes, relative gap) per refinement.
    """

    phi: np.ndarray
    error: np.ndarray
    value: float
    baseline_value: float
    convergence_delta: float
    relative_gap: float
    rule: str
    nodes: int
    evaluations: int
    converged: bool
    levels: List[Tuple[int, float]]
    seconds: float
    #: The input attributed, in its shape.
    x: np.ndarray

    def to_shap(self, feature_names: Optional[Sequence[str]] = None) -> Any:
        """The attribution as a ``shap.Explanation`` (shap must be
        installed): the inputs x as the data, phi as the SHAP values and
        F(baseline) as the base value, so ``shap.plots.waterfall`` shows
        how the inputs move F from the baseline to x."""
        from ._attribution import _explanation

        names = None if feature_names is None else [str(n) for n in feature_names]
        return _explanation(values=self.phi, base_value=self.baseline_value, data=self.x, feature_names=names)


@dataclass(frozen=True)
class ShapleyValues:
    """Shapley values of a coalition function; ``std_error``,
    ``permutations`` and ``stop`` are set for the permutation estimate."""

    phi: np.ndarray
    evaluations: int
    seconds: float
    std_error: Optional[np.ndarray] = None
    permutations: Optional[int] = None
    stop: Optional[str] = None


def path_attribution(
    f: PathFunction,
    x: Any,
    baseline: Any = None,
    *,
    rule: str = _D["rule"],
    nodes: Optional[int] = None,
    tolerance: float = _D["tolerance"],
    max_nodes: int = _D["max_nodes"],
    batch: int = _D["batch"],
) -> PathAttribution:
    """Aumann–Shapley (integrated-gradients) attribution of any
    differentiable function along the straight path from ``baseline``
    (zeros by default) to ``x``.

    ``f`` takes a batch of path points, an array of shape (k, *x.shape),
    and returns their values (k,) and gradients (k, *x.shape); k is at
    most ``batch``. The rule (gauss-legendre, riemann-left, riemann-right,
    riemann-midpoint, trapezoid) adapts its node count until the relative
    completeness gap is under ``tolerance`` (or uses ``nodes`` exactly);
    the engine keeps two rows of n numbers whatever the node count. A
    gap the node limit cannot reach gives a :class:`ConvergenceWarning`
    and the best result. An exception raised by ``f`` stops the work and
    is raised here; so does Ctrl-C.

    A PyTorch model plugs in with a few lines::

        def f(points):
            t = torch.tensor(points, requires_grad=True)
            y = model(t).sum(dim=-1)            # one value per point
            (g,) = torch.autograd.grad(y.sum(), t)
            return y.detach().numpy(), g.numpy()

    >>> w = np.array([1.0, 2.0, 3.0])
    >>> r = aumann.path_attribution(lambda p: (p @ w, np.tile(w, (len(p), 1))), np.ones(3))
    >>> r.phi
    array([1., 2., 3.])
    """
    x = np.asarray(x, dtype=np.float64)
    shape = x.shape
    baseline = np.zeros_like(x) if baseline is None else np.asarray(baseline, dtype=np.float64)
    if baseline.shape != shape:
        raise InvalidInputError(f"baseline has shape {baseline.shape} but x has shape {shape}")
    n = x.size

    def flat(points: np.ndarray) -> Tuple[Any, Any]:
        k = points.shape[0]
        answer = f(points.reshape((k,) + shape))
        if not (isinstance(answer, tuple) and len(answer) == 2):
            raise InvalidInputError(
                "the function must return a pair (values of shape (k,), gradients of shape (k, *x.shape))"
            )
        values, gradients = answer
        gradients = np.asarray(gradients, dtype=np.float64)
        if gradients.shape != (k,) + shape:
            raise InvalidInputError(
                f"the function returned gradients of shape {gradients.shape}; expected {(k,) + shape}"
            )
        return values, gradients.reshape(k, n)

    r = _native.path_attribution(
        flat,
        np.ascontiguousarray(x.ravel()),
        np.ascontiguousarray(baseline.ravel()),
        rule,
        whole_or_none("nodes", nodes, 1),
        tolerance,
        whole("max_nodes", max_nodes, 1),
        whole("batch", batch, 1),
    )
    if r["shortfall"]:
        warnings.warn(r["shortfall"], ConvergenceWarning, stacklevel=2)
    return PathAttribution(
        phi=r["phi"].reshape(shape),
        error=r["error"].reshape(shape),
        value=r["value"],
        baseline_value=r["baseline_value"],
        convergence_delta=r["gap"],
        relative_gap=r["relative_gap"],
        rule=r["rule"],
        nodes=r["nodes"],
        evaluations=r["evaluations"],
        converged=r["converged"],
        levels=list(r["levels"]),
        seconds=r["seconds"],
        x=x,
    )


def _players(players: int) -> int:
    if isinstance(players, bool) or not isinstance(players, (int, np.integer)):
        raise TypeError(f"players must be an int, got {type(players).__name__}")
    if players < 1:
        raise InvalidInputError(f"a game needs at least one player, got {players}")
    return int(players)


def exact_shapley(v: CoalitionFunction, players: int) -> ShapleyValues:
    """Exact Shapley values of the coalition function ``v`` over
    ``players`` players (at most 25: 2^players coalitions, each evaluated
    once). ``v`` takes a bool array of coalitions (k, players) and returns
    their k values; batches are up to 4096 coalitions.

    >>> glove = lambda s: np.minimum(s[:, 0], s[:, 1:].sum(axis=1)).astype(float)
    >>> aumann.exact_shapley(glove, 3).phi
    array([0.66666667, 0.16666667, 0.16666667])
    """
    r = _native.exact_shapley(v, _players(players))
    return ShapleyValues(phi=r["phi"], evaluations=r["evaluations"], seconds=r["seconds"])


def permutation_shapley(
    v: CoalitionFunction,
    players: int,
    *,
    permutations: Optional[int] = 1000,
    max_evaluations: Optional[int] = None,
    target_std_error: Optional[float] = None,
    seed: int = 0,
) -> ShapleyValues:
    """Permutation Shapley estimates (antithetic pairs) of ``v`` over
    ``players`` players, with a standard error per player. Sampling stops
    at the first limit reached: ``permutations``, ``max_evaluations``, or
    every standard error under ``target_std_error``. ``v`` takes a bool
    array of coalitions (k, players) and returns their k values: the
    coalitions of a round of 16 antithetic pairs come in one call (up to
    2^20 numbers per call), so a vectorised ``v`` pays its overhead once a
    round. The same seed gives the same estimates, whatever the thread
    count."""
    r = _native.permutation_shapley(
        v,
        _players(players),
        whole_or_none("permutations", permutations),
        whole_or_none("max_evaluations", max_evaluations),
        target_std_error,
        whole("seed", seed),
    )
    return ShapleyValues(
        phi=r["phi"],
        evaluations=r["evaluations"],
        seconds=r["seconds"],
        std_error=r["std_error"],
        permutations=r["permutations"],
        stop=r["stop"],
    )
