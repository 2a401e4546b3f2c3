"""The replay's parameters fitted to what was observed (docs/fit.md)."""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from typing import Any, Dict, Optional, Union

import pandas as pd

from . import _native
from ._population import Population

_D = _native.DEFAULTS


def _keyword(name: str) -> str:
    """A declared parameter's name as the functions' keyword."""
    for p in _native.PARAMETERS:
        if p["name"] == name:
            return str(p["keyword"])
    return name.replace("-", "_")


@dataclass(frozen=True, repr=False)
class Fit:
    """An indicator's parameters estimated from a population's records:
    what ``aumann fit`` writes as fit.json, in ``summary``.

    ``parameters`` has a row per parameter (estimate, the 95%
    profile-likelihood interval, whether the data identify it, the default,
    and the value to use); ``params`` gives the values to use as keyword
    arguments, so ``aumann.attribute(pop, "cascade", **fit.params)``
    attributes with the fitted replay. ``held_out`` scores the fitted
    replay, the defaults and a constant response rate on the steps held
    out of the fit.
    """

    summary: Dict[str, Any]

    @property
    def indicator(self) -> str:
        return str(self.summary["indicator"])

    @property
    def parameters(self) -> pd.DataFrame:
        """One row per parameter; ``lower`` or ``upper`` is NaN where the
        interval reaches the parameter's bound."""
        rows = [
            {
                "parameter": p["name"],
                "estimate": p["estimate"],
                "lower": float("nan") if p["interval"][0] is None else p["interval"][0],
                "upper": float("nan") if p["interval"][1] is None else p["interval"][1],
                "identified": p["identified"],
                "default": p["default"],
                "used": p["used"],
            }
            for p in self.summary["parameters"]
        ]
        return pd.DataFrame(rows).set_index("parameter")

    @property
    def params(self) -> Dict[str, float]:
        """The values to use, by keyword (``beta``, ``cascade_c``)."""
        return {_keyword(p["name"]): float(p["used"]) for p in self.summary["parameters"]}

    @property
    def responses_per_step(self) -> Optional[pd.DataFrame]:
        """The cascade's: per step, agents at risk, first responses
        observed, and those expected under the fitted parameters, the
        defaults and a constant rate. None for polarization."""
        rows = self.summary.get("responses_per_step")
        return None if rows is None else pd.DataFrame(rows).set_index("step")

    @property
    def trajectory(self) -> Optional[pd.DataFrame]:
        """Polarization's: per step, the polarization of the agents observed
        there, observed and as the replay runs from step 0 with the kappa to
        use, the default and no dynamics. None for the cascade."""
        rows = self.summary.get("trajectory")
        return None if rows is None else pd.DataFrame(rows).set_index("step")

    @property
    def transitions_per_step(self) -> Optional[pd.DataFrame]:
        """Polarization's: per step, the agents observed there and the step
        before, their mean stance, and the RMSE of the one-step predictions
        with the fitted kappa, the default and no dynamics. None for the
        cascade."""
        rows = self.summary.get("transitions_per_step")
        return None if rows is None else pd.DataFrame(rows).set_index("step")

    @property
    def held_out(self) -> Optional[pd.DataFrame]:
        """Per model on the held-out steps: for the cascade (fitted,
        defaults, constant_rate) observations, responses, log-likelihood
        per observation and AUC; for polarization (fitted, defaults,
        no_dynamics) observations, RMSE and log-likelihood per observation.
        None when nothing was held out (``held_out_skipped`` says why)."""
        held = self.summary.get("held_out")
        if held is None:
            return None
        models = [m for m in ("fitted", "defaults", "constant_rate", "no_dynamics") if m in held]
        return pd.DataFrame([dict(model=m, **held[m]) for m in models]).set_index("model")

    @property
    def cross_validated(self) -> Optional[pd.DataFrame]:
        """Where the split held out fewer than three steps: each read step
        left out in turn, predicted by a fit on the others, the predictions
        scored together (the same columns as ``held_out``); else None."""
        cv = self.summary.get("cross_validated")
        if cv is None:
            return None
        models = [m for m in ("fitted", "defaults", "constant_rate", "no_dynamics") if m in cv]
        return pd.DataFrame([dict(model=m, **cv[m]) for m in models]).set_index("model")

    @property
    def held_out_skipped(self) -> Optional[str]:
        return self.summary.get("held_out_skipped")

    def to_json(self) -> str:
        """fit.json's text, which ``aumann attribute --params`` reads."""
        return json.dumps(self.summary, indent=2) + "\n"

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{p['name']} {p['used']:.4g}" + ("" if p["identified"] else " (default: not identified)")
            for p in self.summary["parameters"]
        )
        return f"<aumann.Fit {self.indicator}: {parts}>"


Stances = Union[str, "os.PathLike[str]", pd.DataFrame]


def stances_argument(stances: Optional[Stances]) -> Any:
    """Stances observed per step as the native calls take them: a CSV's
    path, or the columns of a DataFrame of external_id, step and stance."""
    if stances is None:
        return None
    if isinstance(stances, pd.DataFrame):
        missing = {"external_id", "step", "stance"} - set(stances.columns)
        if missing:
            raise TypeError(
                f"stances needs the columns external_id, step and stance; it lacks {', '.join(sorted(missing))}"
            )
        return (
            [str(x) for x in stances["external_id"]],
            [int(x) for x in stances["step"]],
            [float(x) for x in stances["stance"]],
        )
    if isinstance(stances, (str, os.PathLike)):
        return os.fspath(stances)
    raise TypeError(f"stances must be a pandas DataFrame or a CSV path, got {type(stances).__name__}")


def fit(
    population: Population,
    indicator: str = "cascade",
    *,
    stances: Optional[Stances] = None,
    network: str = _D["network"],
    held_out: float = 0.3,
    progress: bool = True,
) -> Fit:
    """Estimates ``indicator``'s parameters from the population's records,
    as ``aumann fit`` does (docs/fit.md), with 95% profile-likelihood
    intervals and scores on the last ``held_out`` share of the steps:

    - ``"cascade"``: beta and c from who first engaged with or reshared
      others' content and when, given what each agent read;
    - ``"polarization"``: kappa from ``stances`` observed per step, a
      DataFrame with columns ``external_id``, ``step`` and ``stance`` (a
      survey, or a stance estimated per window) or the path of such a CSV.
      Rows naming accounts the population does not hold are left out with
      a warning that counts them.

    >>> f = aumann.fit(pop)                                # doctest: +SKIP
    >>> aumann.attribute(pop, "cascade", **f.params)       # doctest: +SKIP
    >>> f = aumann.fit(pop, "polarization", stances=surveys)  # doctest: +SKIP
    """
    if not isinstance(population, Population):
        raise TypeError(f"population must be an aumann.Population, got {type(population).__name__}")
    given = stances_argument(stances)
    from ._progress import sink

    text, unknown = _native.fit(population._native, indicator, network, float(held_out), sink(progress), given)
    if unknown:
        warnings.warn(
            f"{unknown} stance rows name accounts the population does not hold; they were left out",
            stacklevel=2,
        )
    return Fit(json.loads(text))
