"""The study's charts from Python, with matplotlib (which must be
installed): each function takes an :class:`aumann.Attribution` (or, for
the panel, an attributions table with its ``phi_panel`` column), draws on
``ax`` (a new figure's when None) and returns the Axes, for a notebook or
a paper's own styling.

>>> aumann.plot.tiers(a)                                   # doctest: +SKIP
>>> fig, axes = plt.subplots(1, 2)                         # doctest: +SKIP
>>> aumann.plot.lorenz(a, ax=axes[0]); aumann.plot.steps(a, ax=axes[1])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import pandas as pd

from . import _native

if TYPE_CHECKING:
    from ._attribution import Attribution

# The report's colours for the three follower tiers.
_TIER_COLOURS = {"head": "#4c72b0", "middle": "#55a868", "tail": "#c44e52"}


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot()


def tiers(a: "Attribution", ax: Any = None) -> Any:
    """Each follower tier's share of F(x) - F(x'), as bars."""
    ax = _axes(ax)
    table = a.by_tier()
    colours = [_TIER_COLOURS.get(str(t), "#8172b2") for t in table.index]
    ax.bar([str(t) for t in table.index], table["share"].to_numpy(), color=colours)
    ax.axhline(0.0, color="#444444", linewidth=0.8)
    ax.set_ylabel("share of F(x) - F(x')")
    ax.set_title(f"{a.indicator}: who produced it, by follower tier")
    return ax


def lorenz_points(phi: Any, points: int = 200) -> pd.DataFrame:
    """The Lorenz curve of |phi|: the share of Σ|φ| held by the bottom
    ``share_of_agents`` of agents, at ``points`` + 1 evenly spaced shares
    (the points of the study's ``INDICATOR-lorenz`` figure)."""
    magnitudes = np.sort(np.abs(np.asarray(phi, dtype=np.float64)))
    n = len(magnitudes)
    total = magnitudes.sum()
    if n == 0 or total == 0.0:
        return pd.DataFrame({"share_of_agents": [0.0, 1.0], "share_of_abs_phi": [0.0, 1.0]})
    cumulative = np.concatenate([[0.0], np.cumsum(magnitudes) / total])
    at = np.arange(points + 1) * n // points
    return pd.DataFrame({"share_of_agents": at / n, "share_of_abs_phi": cumulative[at]})


def lorenz(a: "Attribution", ax: Any = None) -> Any:
    """The Lorenz curve of |φ| with the line of equal shares: how few
    agents hold how much of the attribution."""
    ax = _axes(ax)
    curve = lorenz_points(a.agents["phi"].to_numpy())
    ax.plot(curve["share_of_agents"], curve["share_of_abs_phi"], label="|φ|")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=0.8, label="equal shares")
    ax.set_xlabel("share of agents (fewest |φ| first)")
    ax.set_ylabel("share of Σ|φ|")
    ax.set_title(f"{a.indicator}: concentration of the attribution")
    ax.legend()
    return ax


def steps(a: "Attribution", ax: Any = None) -> Any:
    """Σφ per step: when it mattered."""
    ax = _axes(ax)
    by_step = a.steps.groupby("step")["phi"].sum()
    ax.bar(by_step.index.to_numpy(), by_step.to_numpy(), color="#4c72b0")
    ax.axhline(0.0, color="#444444", linewidth=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("Σφ")
    ax.set_title(f"{a.indicator}: when it mattered")
    return ax


def curves(a: "Attribution", kind: str = "deletion", ax: Any = None) -> Any:
    """F against the share of agents silenced (``kind="deletion"``: the top
    k by each ranking silenced) or opened (``"insertion"``: only they
    open), one line per ranking; the attribution must have been made with
    ``curves=True``."""
    if kind not in ("deletion", "insertion"):
        raise ValueError(f"kind is deletion or insertion, got {kind!r}")
    if a.curves is None:
        raise ValueError("this attribution has no curves: attribute with curves=True")
    ax = _axes(ax)
    for ranking, rows in a.curves.groupby("ranking", sort=False):
        ax.plot(rows["fraction"].to_numpy(), rows[kind].to_numpy(), marker="o", markersize=3, label=str(ranking))
    ax.set_xscale("log")
    ax.set_xlabel("share of agents " + ("silenced" if kind == "deletion" else "open"))
    ax.set_ylabel("F")
    ax.set_title(f"{a.indicator}: " + ("the top k silenced" if kind == "deletion" else "only the top k open"))
    ax.legend()
    return ax


def panel(agents: pd.DataFrame, ax: Optional[Any] = None) -> Any:
    """The top-followers panel against full scale: each member's φ in the
    panel replayed alone (``phi_panel``) against its φ at full scale, with
    the line of equal values. ``agents`` is a study's attributions table
    (``attributions-INDICATOR.parquet``), which has ``phi_panel`` where the
    study attributed the panel."""
    if "phi_panel" not in agents.columns:
        raise ValueError("the table has no phi_panel column: a study with a panel (sample > 0) writes it")
    members = agents[agents["phi_panel"].notna()]
    ax = _axes(ax)
    ax.scatter(members["phi"].to_numpy(), members["phi_panel"].to_numpy(), s=12, color="#4c72b0")
    both = np.concatenate([members["phi"].to_numpy(), members["phi_panel"].to_numpy()])
    lo, hi = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
    ax.plot([lo, hi], [lo, hi], color="#999999", linestyle="--", linewidth=0.8, label="equal")
    ax.set_xlabel("φ at full scale")
    ax.set_ylabel("φ in the panel replayed alone")
    ax.set_title(f"the top-followers panel ({len(members)} accounts) against full scale")
    ax.legend()
    return ax


# The numbers read as shares, with their labels, as the study's
# INDICATOR-sensitivity figure shows them.
_SENSITIVITY_SHOWN = tuple((str(n), str(label)) for n, label in _native.SENSITIVITY_SHOWN)


def sensitivity(s: Any, ax: Any = None) -> Any:
    """The sensitivity analysis (an :class:`aumann.Sensitivity`): each
    share-like headline number's range over the alternatives as a bar, the
    reference's value as a dot (the study's ``INDICATOR-sensitivity``
    figure)."""
    ax = _axes(ax)
    ranges = s.ranges
    rows = [(label, ranges.loc[number]) for number, label in _SENSITIVITY_SHOWN if number in ranges.index]
    for k, (_, r) in enumerate(rows):
        ax.hlines(k, r["min"], r["max"], linewidth=6, alpha=0.45, color="#0072B2")
        if r["reference"] is not None and not pd.isna(r["reference"]):
            ax.plot([r["reference"]], [k], "o", color="#D55E00")
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.invert_yaxis()
    ax.set_xlabel("value (shares as fractions); dots: the reference")
    ax.set_title(f"{s.attribution.indicator}: each number over the alternatives")
    return ax
