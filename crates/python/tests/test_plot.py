"""aumann.plot: each chart returns its Axes and draws the numbers it is
named after (checked against the attribution's tables and against the
data files the study's figures are written with, a separate
implementation in Rust)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import aumann  # noqa: E402


@pytest.fixture(scope="module")
def studied(tmp_path_factory, small):
    out = tmp_path_factory.mktemp("plot") / "study"
    aumann.study(small, "cascade", sample=40, permutations=0, out=out, progress=False)
    a = aumann.attribute(small, "cascade", curves=True, progress=False)
    return out, a


def test_the_lorenz_curve_is_the_studys(studied):
    out, a = studied
    written = pd.read_csv(out / "figures" / "cascade-lorenz.csv")
    full = written[written.series == written.series.iloc[0]]
    ours = aumann.plot.lorenz_points(a.agents["phi"])
    np.testing.assert_allclose(ours.share_of_agents, full.share_of_agents, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.share_of_abs_phi, full.share_of_abs_phi, rtol=0, atol=1e-12)
    ax = aumann.plot.lorenz(a)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), ours.share_of_abs_phi)
    plt.close("all")


def test_tiers_steps_and_curves_draw_the_tables_numbers(studied):
    _, a = studied
    ax = aumann.plot.tiers(a)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert [p.get_height() for p in ax.patches] == a.by_tier()["share"].tolist()
    ax = aumann.plot.steps(a)
    by_step = a.steps.groupby("step").phi.sum()
    np.testing.assert_allclose([p.get_height() for p in ax.patches], by_step.to_numpy(), rtol=1e-15)
    for kind in ("deletion", "insertion"):
        ax = aumann.plot.curves(a, kind)
        rankings = a.curves.ranking.unique()
        assert [line.get_label() for line in ax.lines] == list(rankings)
        first = a.curves[a.curves.ranking == rankings[0]]
        np.testing.assert_array_equal(ax.lines[0].get_ydata(), first[kind].to_numpy())
    # On an Axes of the caller's.
    fig, axes = plt.subplots(1, 2)
    assert aumann.plot.tiers(a, ax=axes[1]) is axes[1]
    plt.close("all")


def test_the_panel_against_full_scale(studied):
    out, _ = studied
    agents = pd.read_parquet(out / "attributions-cascade.parquet")
    ax = aumann.plot.panel(agents)
    assert len(ax.collections[0].get_offsets()) == 40
    with pytest.raises(ValueError, match="no phi_panel column"):
        aumann.plot.panel(agents.drop(columns=["phi_panel"]))
    plt.close("all")


def test_what_cannot_be_drawn_says_why(small):
    a = aumann.attribute(small, "linear", progress=False)
    with pytest.raises(ValueError, match="curves=True"):
        aumann.plot.curves(a)
    with pytest.raises(ValueError, match="deletion or insertion"):
        aumann.plot.curves(a, "sideways")


def test_the_sensitivity_ranges_are_the_studys(studied, small):
    out, _ = studied
    written = pd.read_csv(out / "figures" / "cascade-sensitivity.csv").set_index("number")
    s = aumann.sensitivity(small, "cascade", extent="default", progress=False)
    ax = aumann.plot.sensitivity(s)
    segments = ax.collections
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert shown[0] == "head tier's share" and len(segments) == len(shown)
    for (number, _), segment in zip(aumann.plot._SENSITIVITY_SHOWN, segments):
        (x0, _), (x1, _) = segment.get_segments()[0]
        assert (x0, x1) == (written.loc[number, "min"], written.loc[number, "max"]), number
    plt.close("all")
