"""Attribution of an indicator over a population, and the whole study."""

from __future__ import annotations

import inspect
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Optional, Sequence, Tuple, Union, overload

import pandas as pd

from . import _native, _summary
from ._population import PathLike, Population
from ._tables import to_frame

if TYPE_CHECKING:
    from ._sensitivity import Sensitivity

_D = _native.DEFAULTS

#: The indicators, as ``attribute`` and ``study`` take them.
INDICATORS: Tuple[str, ...] = tuple(_native.INDICATORS)

#: Every indicator's parameters (one dict each: indicator, name, keyword,
#: symbol, help, unit, default, when_absent, bounds), from the declarations
#: the command line's flags come from too.
PARAMETERS: Tuple[Dict[str, Any], ...] = tuple(_native.PARAMETERS)


@dataclass(frozen=True)
class Cluster:
    """This process's place in a cluster of processes that attribute
    together (docs/distributed.md): the agents are split over every worker
    of every process, and the numbers are one process's, bit for bit.

    Start the same call in every process, changing only ``process``.
    Process 0 returns the result and writes ``out``; the others return
    None once their part is done. ``hostfile`` names one ``host:port`` per
    process, process 0 first; without it the processes listen on
    127.0.0.1 from ``first_port`` up. ``workers`` threads per process each
    hold one shard of the agents. A process waits ``connect_timeout``
    seconds for the others to connect, and stops the run when a peer sends
    nothing for ``peer_timeout`` seconds (a lost connection stops it at
    once). After such a failure the cluster's threads stay until the
    Python process exits: end it, and start the run again.

    >>> aumann.study(pop, cluster=aumann.Cluster(processes=2, process=0))  # doctest: +SKIP
    """

    process: int
    processes: Optional[int] = None
    workers: int = 1
    hostfile: Optional[PathLike] = None
    first_port: int = _D["first_port"]
    connect_timeout: float = _D["connect_timeout"]
    peer_timeout: float = _D["peer_timeout"]

    def _settings(self) -> Dict[str, Any]:
        from ._errors import whole, whole_or_none

        return {
            "process": whole("process", self.process),
            "processes": whole_or_none("processes", self.processes, 1),
            "workers": whole("workers", self.workers),
            "hostfile": None if self.hostfile is None else os.fspath(self.hostfile),
            "first_port": whole("first_port", self.first_port),
            "connect_timeout": self.connect_timeout,
            "peer_timeout": self.peer_timeout,
        }


@dataclass(frozen=True, repr=False)
class Attribution:
    """One indicator's Aumann–Shapley attribution over a population.

    ``agents`` has a row per agent (agent, external_id, followers, tier,
    activity, phi, error, ...), ``steps`` a row per (agent, step) gate
    (agent, step, phi), ``curves`` the deletion and insertion curves when
    drawn: the tables ``aumann attribute`` writes. ``value`` is F(x), with
    every agent as recorded, ``baseline_value`` F(x'), with every agent
    silent; ``convergence_delta`` is sum(phi) - (F(x) - F(x')), Captum's
    name for the completeness gap.
    """

    indicator: str
    agents: pd.DataFrame
    steps: pd.DataFrame
    curves: Optional[pd.DataFrame]
    summary: Dict[str, Any] = field(default_factory=dict)
    population_summary: Dict[str, Any] = field(default_factory=dict)
    fit_summary: Optional[Dict[str, Any]] = None
    sensitivity_table: Optional[pd.DataFrame] = None

    @property
    def sensitivity(self) -> Optional["Sensitivity"]:
        """The sensitivity analysis (docs/sensitivity.md), when
        ``sensitivity=`` asked for one; else None."""
        from ._sensitivity import Sensitivity

        if self.sensitivity_table is None or not self.summary.get("sensitivity"):
            return None
        return Sensitivity(attribution=self, summary=self.summary, table=self.sensitivity_table)

    @property
    def fit(self) -> Optional["Fit"]:
        """The parameters fitted to the data (the cascade's, or
        polarization's to ``stances``), when ``fit=True`` asked for them
        (the attribution used them); else None."""
        from ._fit import Fit

        return None if self.fit_summary is None else Fit(self.fit_summary)

    @property
    def value(self) -> float:
        """F(x): the indicator with every agent as recorded."""
        return _summary.field(self.summary, "full", "value_input")

    @property
    def baseline_value(self) -> float:
        """F(x'): the indicator with every agent silent."""
        return _summary.field(self.summary, "full", "value_baseline")

    @property
    def delta(self) -> float:
        """F(x) - F(x'): what the agents' phi add up to."""
        return self.value - self.baseline_value

    @property
    def gap(self) -> float:
        """The completeness gap, sum(phi) - (F(x) - F(x'))."""
        return _summary.field(self.summary, "full", "gap")

    convergence_delta = gap

    @property
    def relative_gap(self) -> float:
        """|gap| / |F(x) - F(x')|."""
        return _summary.field(self.summary, "full", "relative_gap")

    @property
    def converged(self) -> bool:
        """Whether the relative gap met the tolerance."""
        return _summary.field(self.summary, "full", "converged")

    @property
    def flat_cause(self) -> Optional[str]:
        """Why the indicator does not move, when it does not (phi is 0)."""
        return _summary.field(self.summary, "full", "flat_cause")

    @property
    def rule(self) -> str:
        return _summary.field(self.summary, "full", "rule")

    @property
    def nodes(self) -> int:
        """Quadrature nodes of the final rule."""
        return _summary.field(self.summary, "full", "nodes")

    @property
    def evaluations(self) -> int:
        """Gradient evaluations (replays) over all levels."""
        return _summary.field(self.summary, "full", "gradient_evaluations")

    @property
    def phi(self) -> pd.Series:
        """phi per agent, indexed by external id."""
        return pd.Series(self.agents["phi"].to_numpy(), index=self.agents["external_id"], name="phi")

    @property
    def error(self) -> pd.Series:
        """The per-agent error estimate (|phi at the last level - phi at
        the one before|), indexed by external id."""
        return pd.Series(self.agents["error"].to_numpy(), index=self.agents["external_id"], name="error")

    @property
    def timings(self) -> Dict[str, float]:
        """Seconds spent: building the replay, attributing, drawing the
        curves (when drawn)."""
        t = {
            "replay": (
                _summary.field(self.population_summary, "replay_seconds") if self.population_summary else float("nan")
            ),
            "attribution": _summary.field(self.summary, "full", "seconds"),
        }
        if self.summary.get("curves"):
            t["curves"] = _summary.field(self.summary, "curves", "seconds")
        return t

    def top(self, k: int = 10, by: str = "phi") -> pd.DataFrame:
        """The k agents with the largest ``by`` (phi by default)."""
        return self.agents.nlargest(k, by)

    def by_tier(self) -> pd.DataFrame:
        """phi totalled per follower tier, with each tier's share."""
        tiers = _summary.field(self.summary, "tiers") or []
        return pd.DataFrame(tiers).set_index("tier") if tiers else pd.DataFrame()

    def to_shap(self) -> Any:
        """The attribution as a ``shap.Explanation`` (shap must be
        installed): one explanation of F(x), a feature per agent named by
        its external id, its value the agent's activity, its SHAP value phi,
        and the base value F(x'), so ``base_values + values.sum()`` is F(x)
        up to the completeness gap. SHAP's plots take it as they are:

        >>> shap.plots.waterfall(a.to_shap())            # doctest: +SKIP
        >>> shap.plots.bar(a.to_shap(), max_display=20)  # doctest: +SKIP
        """
        return _explanation(
            values=self.agents["phi"].to_numpy(),
            base_value=self.baseline_value,
            data=self.agents["activity"].to_numpy(),
            feature_names=[str(x) for x in self.agents["external_id"]],
        )

    def __repr__(self) -> str:
        if self.flat_cause:
            return f"<aumann.Attribution {self.indicator}: flat ({self.flat_cause})>"
        return (
            f"<aumann.Attribution {self.indicator}: F(x) - F(x') = {self.delta:.6g} over "
            f"{len(self.agents)} agents; {self.nodes} nodes, relative gap {self.relative_gap:.1e}>"
        )


def _explanation(values: Any, base_value: float, data: Any, feature_names: Optional[List[str]]) -> Any:
    """A ``shap.Explanation``, or an ImportError that says how to get shap."""
    try:
        import shap
    except ImportError as e:
        raise ImportError("to_shap() needs shap: pip install shap") from e
    return shap.Explanation(values=values, base_values=base_value, data=data, feature_names=feature_names)


def _settings(
    indicator: Union[str, Sequence[str]],
    network: str,
    parameters: Dict[str, Optional[float]],
    rule: str,
    nodes: Optional[int],
    tolerance: float,
    max_nodes: int,
    batch: int,
    tiers: Tuple[float, float],
    curves: bool,
    ranking_seed: int,
    random_rankings: int,
    latency_quantile: float,
    panel_size: int,
    permutations: int,
    panel_seed: int,
    out: Optional[PathLike],
    report: bool,
    threads: Optional[int],
    progress: bool,
    figures: Union[bool, PathLike] = False,
    checkpoint: Optional[PathLike] = None,
    cluster: Optional[Cluster] = None,
    fit: Optional[float] = None,
    stances: Any = None,
    panel_draws: int = 1,
    sensitivity: Optional[str] = "none",
    baseline: Any = None,
) -> Dict[str, Any]:
    from ._errors import InvalidInputError, whole, whole_or_none
    from ._fit import stances_argument
    from ._progress import sink
    from ._sensitivity import baseline_argument, extent_argument

    # The Python keywords' names: a study's panel seed also seeds its
    # rankings, and its panel size is `sample`.
    panel_seed = whole("panel_seed", panel_seed)
    counts = {
        "nodes": whole_or_none("nodes", nodes, 1),
        "max_nodes": whole("max_nodes", max_nodes, 1),
        "batch": whole("batch", batch, 1),
        "ranking_seed": whole("ranking_seed", ranking_seed),
        "random_rankings": whole("random_rankings", random_rankings),
        "panel_size": whole("sample", panel_size),
        "permutations": whole("permutations", permutations),
        "threads": whole_or_none("threads", threads, 1),
    }

    if not isinstance(figures, (bool, str, os.PathLike)):
        raise InvalidInputError(f"figures must be True, False or a directory, got {type(figures).__name__}")
    if cluster is not None and not isinstance(cluster, Cluster):
        raise InvalidInputError(f"cluster must be an aumann.Cluster, got {type(cluster).__name__}")
    return {
        "fit": fit,
        "stances": stances_argument(stances),
        # None: the default extent in one process, none on a cluster
        # (where the analysis does not run).
        "sensitivity": extent_argument(sensitivity or ("none" if cluster is not None and baseline is None else "default")),
        "baseline": baseline_argument(baseline),
        "checkpoint": None if checkpoint is None else os.fspath(checkpoint),
        "cluster": None if cluster is None else cluster._settings(),
        # With no out, figures=True (the default) has nowhere to go.
        "figures_in_out": figures is True and report and out is not None,
        "figures_dir": None if isinstance(figures, bool) else os.fspath(figures),
        "indicator": indicator,
        "network": network,
        # None: the parameter's default (for depth, taken from the data).
        "parameters": {k: v for k, v in parameters.items() if v is not None},
        "rule": rule,
        "tolerance": tolerance,
        "tiers": tuple(tiers),
        "curves": curves,
        "latency_quantile": latency_quantile,
        "panel_seed": panel_seed,
        "panel_draws": whole("panel_draws", panel_draws, 1),
        "out": None if out is None else os.fspath(out),
        "report": report,
        "progress": sink(progress),
        **counts,
    }


def _run(
    population: Population, settings: Dict[str, Any]
) -> Optional[Tuple[Dict[str, Any], List[Attribution], List[str]]]:
    if not isinstance(population, Population):
        raise TypeError(f"population must be an aumann.Population, got {type(population).__name__}")
    chosen = settings["indicator"]
    names = [chosen] if isinstance(chosen, str) else list(chosen)
    if not names:
        from ._errors import InvalidInputError

        raise InvalidInputError("no indicator chosen")
    summaries: Dict[str, Any] = {}
    attributions: List[Attribution] = []
    written: List[str] = []
    if len(names) > 1 and any(settings[k] is not None for k in ("out", "figures_dir", "checkpoint", "cluster")):
        from ._errors import InvalidInputError

        raise InvalidInputError('out=, figures=, checkpoint= and cluster= make one run: give one indicator or "all"')
    for name in names:
        ran = _native.run(population._native, dict(settings, indicator=name))
        if ran is None:
            # A cluster's process other than 0: its part is done.
            return None
        text, tables, files = ran
        summary = json.loads(text)
        _summary.check(summary)
        for key, value in summary.items():
            if key == "indicators":
                summaries.setdefault(key, []).extend(value)
            else:
                summaries.setdefault(key, value)
        written.extend(files)
        # The tables come in the summary's order of indicators.
        for study_summary, (ind, agents, steps, curves, robust) in zip(_summary.field(summary, "indicators"), tables):
            attributions.append(
                Attribution(
                    indicator=ind,
                    agents=to_frame(agents),
                    steps=to_frame(steps),
                    curves=None if curves is None else to_frame(curves),
                    summary=study_summary,
                    population_summary=_summary.field(summary, "population"),
                    fit_summary=summary.get("fit"),
                    sensitivity_table=None if robust is None else to_frame(robust),
                )
            )
    return summaries, attributions, written


# What a call returns, for type checkers: a process of a cluster gets a
# result or (other than process 0) None; otherwise one indicator gives one
# Attribution, "all" or a list a dict of them. The keywords are the
# implementation's (`**options` here only so that each overload need not
# repeat them, and so that `**fit.params` matches).
@overload
def attribute(
    population: Population,
    indicator: Union[str, List[str]] = "polarization",
    *,
    cluster: Cluster,
    **options: Any,
) -> Union[Attribution, Dict[str, Attribution], None]: ...
@overload
def attribute(population: Population, indicator: Literal["all"], **options: Any) -> Dict[str, Attribution]: ...
@overload
def attribute(population: Population, indicator: List[str], **options: Any) -> Dict[str, Attribution]: ...
@overload
def attribute(population: Population, indicator: str = "polarization", **options: Any) -> Attribution: ...
def attribute(
    population: Population,
    indicator: Union[str, Sequence[str]] = "polarization",
    *,
    network: str = _D["network"],
    rule: str = _D["rule"],
    nodes: Optional[int] = None,
    tolerance: float = _D["tolerance"],
    max_nodes: int = _D["max_nodes"],
    batch: int = _D["batch"],
    tiers: Tuple[float, float] = _D["tiers"],
    curves: bool = False,
    ranking_seed: int = 1,
    random_rankings: int = _D["random_rankings"],
    latency_quantile: float = _D["latency_quantile"],
    out: Optional[PathLike] = None,
    threads: Optional[int] = None,
    progress: bool = True,
    checkpoint: Optional[PathLike] = None,
    cluster: Optional[Cluster] = None,
    fit: bool = False,
    held_out: float = 0.3,
    stances: Any = None,
    sensitivity: str = "none",
    baseline: Any = None,
    **parameters: Optional[float],
) -> Union[Attribution, Dict[str, Attribution], None]:
    """Attributes an indicator to every agent and every (agent, step), as
    ``aumann attribute`` does, with the same options and the same numbers.

    ``indicator`` is one of ``aumann.INDICATORS``; "all" or a list gives a
    dict of results by name. The indicators' parameters are keyword
    arguments (``kappa=5``, ``cascade_c=0.3``, ``lambda_=2``: the names of
    ``aumann.PARAMETERS``, each defaulting to the command line's value). ``network``
    (follows, exposures, both) is what polarization and cascade replay.
    The engine adapts the node count until the relative completeness gap
    is under ``tolerance`` (or uses ``nodes`` exactly). ``curves`` draws
    the deletion and insertion curves; ``out`` also writes the command
    line's outputs there. The work runs with the GIL released, on
    ``threads`` threads (all cores by default); Ctrl-C stops it between
    sweeps. ``checkpoint`` (a directory) saves the attribution's progress
    after every sweep: the same call made again after a crash continues
    from there with the same numbers, and the files go once it returns.
    ``cluster`` (an :class:`aumann.Cluster`) runs this call as one process
    of several; process 0 gets the result, the others None. ``fit=True``
    first fits the cascade's parameters to who responded when (holding out
    the last ``held_out`` share of the steps, docs/fit.md) and attributes
    with them; the result's ``fit`` is that fit. With ``stances`` (a
    DataFrame of external_id, step and stance, or a CSV path), ``fit=True``
    fits polarization's kappa to those stances instead, and the replay
    starts from the stances observed at step 0. ``sensitivity="default"``
    (or "full") attributes again under other baselines, the time-ordered
    path, other parameter values and stance estimates (and ``baseline``,
    a DataFrame of external_id, baseline and optionally step, or a CSV):
    the result's ``sensitivity`` says which conclusions hold under all
    (docs/sensitivity.md; :func:`sensitivity` is the shortcut).

    >>> pop = aumann.generate(agents=5000, days=7, seed=1)
    >>> a = aumann.attribute(pop, "polarization")
    >>> a.relative_gap < 1e-6
    True
    >>> a.top(5)[["external_id", "followers", "phi"]]   # doctest: +SKIP
    """
    settings = _settings(
        "all" if indicator == "all" else indicator, network, parameters,
        rule, nodes, tolerance, max_nodes, batch, tiers, curves, ranking_seed, random_rankings,
        latency_quantile, 0, 0, 1, out, False, threads, progress, False, checkpoint, cluster,
        held_out if fit else None, stances, 1, sensitivity, baseline,
    )  # fmt: skip
    ran = _run(population, settings)
    if ran is None:
        return None
    _, attributions, _ = ran
    if isinstance(indicator, str) and indicator != "all":
        return attributions[0]
    return {a.indicator: a for a in attributions}


@overload
def study(
    population: Population, indicator: str = "polarization", *, cluster: Cluster, **options: Any
) -> Optional[Dict[str, Any]]: ...
@overload
def study(population: Population, indicator: str = "polarization", **options: Any) -> Dict[str, Any]: ...
def study(
    population: Population,
    indicator: str = "polarization",
    *,
    network: str = _D["network"],
    rule: str = _D["rule"],
    nodes: Optional[int] = None,
    tolerance: float = _D["tolerance"],
    max_nodes: int = _D["max_nodes"],
    batch: int = _D["batch"],
    tiers: Tuple[float, float] = _D["tiers"],
    sample: int = _D["sample"],
    permutations: int = _D["permutations"],
    panel_seed: int = 1,
    panel_draws: int = 1,
    curves: bool = True,
    random_rankings: int = _D["random_rankings"],
    latency_quantile: float = _D["latency_quantile"],
    out: Optional[PathLike] = None,
    report: bool = True,
    figures: Union[bool, PathLike] = True,
    threads: Optional[int] = None,
    progress: bool = True,
    checkpoint: Optional[PathLike] = None,
    cluster: Optional[Cluster] = None,
    fit: bool = False,
    held_out: float = 0.3,
    stances: Any = None,
    sensitivity: Optional[str] = None,
    baseline: Any = None,
    **parameters: Optional[float],
) -> Optional[Dict[str, Any]]:
    """The study of ``aumann study``: the attribution, its tiers, when and
    how it was produced, the deletion and insertion curves, and the panels
    (the ``sample`` highest-follower accounts, random and snowball panels)
    with their scaling-bias verdicts. Returns summary.json's content as a
    dict; with ``out``, also writes the tables, summary.json and (with
    ``report``) report.html there, whole or not at all.

    ``panel_draws`` draws the random and the snowball panels that many
    times (seeds ``panel_seed`` on), each compared with full scale: the
    summary's ``panel_draws`` gives the spread of their verdicts, c* and r.

    ``figures``: every chart of the report as SVG, PNG and PDF at one and
    two journal columns, each with its data as CSV. ``True`` (the default) puts
    them in ``out``'s figures/ with the report; a directory puts them there
    instead (outside ``out``; ``out`` may then be None); ``False`` writes
    none. ``fit``, ``held_out`` and ``stances``, ``checkpoint`` and ``cluster`` are
    :func:`attribute`'s (the fit is the summary's "fit"): on a
    cluster, process 0 returns the summary and writes ``out``, the others
    return None. ``sensitivity`` ("default", "full" or "none"; by default
    "default" in one process and "none" on a cluster, as on the command
    line) and ``baseline`` are :func:`attribute`'s: the summary's
    ``sensitivity`` and the report's "How robust".

    >>> summary = aumann.study(pop, out="out/study")        # doctest: +SKIP
    >>> summary["indicators"][0]["tiers"]                  # doctest: +SKIP
    """
    settings = _settings(
        indicator, network, parameters, rule, nodes, tolerance,
        max_nodes, batch, tiers, curves, panel_seed, random_rankings, latency_quantile, sample,
        permutations, panel_seed, out, report, threads, progress, figures, checkpoint, cluster,
        held_out if fit else None, stances, panel_draws, sensitivity, baseline,
    )  # fmt: skip
    ran = _run(population, settings)
    return None if ran is None else ran[0]


def sensitivity(
    population: Population,
    indicator: str = "polarization",
    *,
    extent: str = "full",
    baseline: Any = None,
    **options: Any,
) -> "Sensitivity":
    """The attribution of ``indicator`` and its sensitivity analysis, as
    ``aumann sensitivity`` makes them: every alternative (``extent="full"``;
    "default" is the study's set within its budget), as
    ``attribute(population, indicator, sensitivity=extent, baseline=baseline,
    **options)`` makes them, returning its ``sensitivity``.

    >>> s = aumann.sensitivity(pop, "cascade")            # doctest: +SKIP
    >>> s.conclusions[["statement", "verdict"]]            # doctest: +SKIP
    """
    from ._errors import InvalidInputError
    from ._sensitivity import Sensitivity

    if extent == "none":
        raise InvalidInputError('sensitivity(extent="none") has nothing to do: choose "default" or "full"')
    if not isinstance(indicator, str) or indicator == "all":
        raise InvalidInputError("sensitivity() takes one indicator; loop over aumann.INDICATORS for more")
    made = attribute(population, indicator, sensitivity=extent, baseline=baseline, **options)
    if not isinstance(made, Attribution):
        raise InvalidInputError("sensitivity() runs in one process: cluster= is not taken")
    result = made.sensitivity
    if result is None:
        raise InvalidInputError(f"{indicator} is flat: there is nothing to analyse ({made.flat_cause})")
    assert isinstance(result, Sensitivity)
    return result


def _with_parameters(function: Any) -> None:
    """Shows the indicators' parameters in ``function``'s signature (what
    ``help()``, IPython and notebooks display) in place of
    ``**parameters``, each keyword-only with its default."""
    signature = inspect.signature(function)
    kept = [p for p in signature.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD]
    declared = [
        inspect.Parameter(p["keyword"], inspect.Parameter.KEYWORD_ONLY, default=p["default"], annotation="Optional[float]")
        for p in PARAMETERS
    ]
    function.__signature__ = signature.replace(parameters=kept + declared)


_with_parameters(attribute)
_with_parameters(study)

