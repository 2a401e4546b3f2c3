"""The sensitivity analysis (docs/sensitivity.md): the attribution made
again under other baselines, the time-ordered path, other parameter values
and other stance estimates, and the conclusions that hold under all."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Optional, Union

import pandas as pd

from . import _summary

if TYPE_CHECKING:
    from ._attribution import Attribution

#: The extents ``sensitivity=`` takes.
EXTENTS = ("none", "default", "full")

#: A baseline as ``baseline=`` takes it: a DataFrame of external_id and
#: baseline (and optionally step), or a CSV path.
BaselineLike = Union[pd.DataFrame, str, "os.PathLike[str]"]


def baseline_argument(baseline: Optional[BaselineLike]) -> Any:
    """A user's baseline as the native calls take it: a CSV's path, or the
    columns of a DataFrame (external_id, step or None, baseline)."""
    if baseline is None:
        return None
    if isinstance(baseline, pd.DataFrame):
        missing = {"external_id", "baseline"} - set(baseline.columns)
        if missing:
            raise TypeError(
                f"baseline needs the columns external_id and baseline (and optionally step); "
                f"it lacks {', '.join(sorted(missing))}"
            )
        steps = baseline["step"] if "step" in baseline.columns else [None] * len(baseline)
        return (
            [str(x) for x in baseline["external_id"]],
            [None if pd.isna(t) else int(t) for t in steps],
            [float(x) for x in baseline["baseline"]],
        )
    if isinstance(baseline, (str, os.PathLike)):
        return os.fspath(baseline)
    raise TypeError(f"baseline must be a pandas DataFrame or a CSV path, got {type(baseline).__name__}")


def extent_argument(extent: str) -> str:
    from ._errors import InvalidInputError

    if extent not in EXTENTS:
        raise InvalidInputError(f"sensitivity must be one of {', '.join(EXTENTS)}; got {extent!r}")
    return extent


@dataclass(frozen=True, repr=False)
class Sensitivity:
    """One indicator's sensitivity analysis: ``attribution`` is the study's
    own (the reference), ``alternatives`` a row per alternative (group,
    alternative, its total, gap, and headline numbers), ``conclusions`` a
    row per conclusion with the alternatives under which it changes,
    ``ranges`` each number's least and largest value, ``table`` the long
    table (alternative, group, number, value) sensitivity-INDICATOR.parquet
    holds, and ``robust`` whether every conclusion holds under every
    alternative attributed.
    """

    attribution: "Attribution"
    summary: Dict[str, Any]
    table: pd.DataFrame

    @property
    def robust(self) -> bool:
        return bool(_summary.field(self.summary, "sensitivity", "robust"))

    @property
    def extent(self) -> str:
        return str(_summary.field(self.summary, "sensitivity", "extent"))

    @property
    def cost_in_attributions(self) -> float:
        """The alternatives' gradient evaluations over the reference's."""
        return float(_summary.field(self.summary, "sensitivity", "cost_in_attributions"))

    @property
    def alternatives(self) -> pd.DataFrame:
        rows = []
        for a in _summary.field(self.summary, "sensitivity", "alternatives"):
            numbers = a.get("numbers") or {}
            rows.append(
                {
                    "group": a["group"],
                    "alternative": a["name"],
                    "skipped": a.get("skipped"),
                    "note": a.get("note"),
                    "relative_gap": a["relative_gap"],
                    "converged": a["converged"],
                    "gradient_evaluations": a["gradient_evaluations"],
                    "seconds": a["seconds"],
                    **numbers,
                }
            )
        return pd.DataFrame(rows)

    @property
    def conclusions(self) -> pd.DataFrame:
        return pd.DataFrame(_summary.field(self.summary, "sensitivity", "conclusions"))

    @property
    def ranges(self) -> pd.DataFrame:
        return pd.DataFrame(_summary.field(self.summary, "sensitivity", "ranges")).set_index("number")

    def __repr__(self) -> str:
        tried = len(_summary.field(self.summary, "sensitivity", "alternatives")) - 1
        verdict = "every conclusion holds" if self.robust else "some conclusions change"
        return f"<aumann.Sensitivity {self.attribution.indicator}: {tried} alternatives, {verdict}>"
