"""The attribution and the study from Python: the command line's numbers,
the GIL released, Ctrl-C honoured, bad settings refused."""

import _thread
import json
import threading
import time

import numpy as np
import pandas as pd
import pytest

import aumann
from conftest import run_cli


def test_same_numbers_as_the_command_line(tmp_path, aumann_bin, small):
    small.write(tmp_path / "pop")
    run_cli(aumann_bin, "attribute", "--input", str(tmp_path / "pop"), "--indicator", "all", "--curves",
            "--out", str(tmp_path / "cli"))  # fmt: skip
    cli = json.loads((tmp_path / "cli" / "summary.json").read_text())
    results = aumann.attribute(aumann.read_population(tmp_path / "pop", progress=False), "all", curves=True,
                               progress=False)  # fmt: skip
    assert list(results) == list(aumann.INDICATORS)
    for study in cli["indicators"]:
        name = study["indicator"]["name"]
        a = results[name]
        for table, frame in (("attributions", a.agents), ("steps", a.steps), ("curves", a.curves)):
            on_disk = pd.read_parquet(tmp_path / "cli" / f"{table}-{name}.parquet")
            pd.testing.assert_frame_equal(frame, on_disk, check_exact=True)
        # No panel, no panel columns (they were null in every row).
        assert list(a.agents.columns) == ["agent", "external_id", "followers", "tier", "activity", "phi", "error"]
        full = study["full"]
        assert (a.value, a.baseline_value, a.gap, a.nodes) == (
            full["value_input"],
            full["value_baseline"],
            full["gap"],
            full["nodes"],
        )
        assert a.summary["tiers"] == study["tiers"]
    polarization = results["polarization"]
    assert polarization.relative_gap < 1e-6
    assert polarization.phi.sum() == pytest.approx(polarization.delta, rel=1e-6)
    assert polarization.convergence_delta == polarization.gap
    assert set(polarization.timings) == {"replay", "attribution", "curves"}
    top = polarization.top(3)
    assert top.phi.is_monotonic_decreasing and len(top) == 3


def test_threads_do_not_change_the_numbers(small):
    one = aumann.attribute(small, "cascade", threads=1, progress=False)
    two = aumann.attribute(small, "cascade", threads=2, progress=False)
    pd.testing.assert_frame_equal(one.agents, two.agents, check_exact=True)


def test_study_writes_the_report(tmp_path, small):
    summary = aumann.study(small, "linear", sample=20, permutations=50, out=tmp_path / "study", progress=False)
    names = {p.name for p in (tmp_path / "study").iterdir()}
    assert {"summary.json", "report.html", "run.json", "attributions-linear.parquet"} <= names
    assert summary == json.loads((tmp_path / "study" / "summary.json").read_text())
    assert [p["kind"] for p in summary["indicators"][0]["panels"]] == ["top-followers", "random", "snowball"]
    # The user's own files in the output directory are kept beside the study's.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    aumann.study(small, "linear", sample=0, out=tmp_path / "mine", progress=False)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
    assert (tmp_path / "mine" / "summary.json").exists()
    # A file of a name the study writes, which no run.json lists, is someone
    # else's: refused, and left as it was.
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "summary.json").write_text("{}")
    with pytest.raises(aumann.OutputError, match="not written by this program"):
        aumann.study(small, "linear", sample=0, out=tmp_path / "theirs", progress=False)
    assert [p.name for p in (tmp_path / "theirs").iterdir()] == ["summary.json"]
    assert (tmp_path / "theirs" / "summary.json").read_text() == "{}"


def test_study_writes_figures_where_asked(tmp_path, small):
    # With out: in out's figures/, beside the report. Lorenz, tiers, steps
    # and the sensitivity analysis (no panel, no curves): two sizes, three
    # formats and the data each.
    aumann.study(small, "linear", sample=0, curves=False, out=tmp_path / "study", progress=False)
    names = sorted(p.name for p in (tmp_path / "study" / "figures").iterdir())
    assert len(names) == 4 * 7, names
    assert "linear-sensitivity.csv" in names
    assert "linear-lorenz.csv" in names and "linear-tiers-column.png" in names
    lorenz = pd.read_csv(tmp_path / "study" / "figures" / "linear-lorenz.csv")
    assert list(lorenz.columns) == ["series", "share_of_agents", "share_of_abs_phi"]
    assert lorenz.share_of_abs_phi.max() == pytest.approx(1.0)
    # A directory of their own, without out; or none.
    aumann.study(small, "linear", sample=0, curves=False, figures=tmp_path / "paper", progress=False)
    assert len([p for p in (tmp_path / "paper").iterdir() if p.name != "run.json"]) == 4 * 7
    aumann.study(small, "linear", sample=0, curves=False, out=tmp_path / "bare", figures=False, progress=False)
    assert not (tmp_path / "bare" / "figures").exists()
    # Neither out nor a directory (figures=True is the default): the
    # summary comes back and nothing is written anywhere.
    before = sorted(tmp_path.rglob("*"))
    summary = aumann.study(small, "linear", sample=0, curves=False, progress=False)
    assert summary["indicators"][0]["indicator"]["name"] == "linear"
    assert sorted(tmp_path.rglob("*")) == before
    # Inside out (which its swap would take along) or a wrong type: refused.
    with pytest.raises(ValueError, match="overlaps out"):
        aumann.study(small, "linear", out=tmp_path / "study", figures=tmp_path / "study" / "f", progress=False)
    with pytest.raises(ValueError, match="figures must be True, False or a directory"):
        aumann.study(small, "linear", figures=3, progress=False)


def test_other_threads_run_during_an_attribution():
    pop = aumann.generate(agents=20_000, days=7, seed=1, progress=False)
    counts = []
    stop = threading.Event()

    def count():
        n = 0
        while not stop.is_set():
            n += 1
            if n % 1000 == 0:
                counts.append(time.perf_counter())

    worker = threading.Thread(target=count)
    worker.start()
    time.sleep(0.05)
    started = time.perf_counter()
    aumann.attribute(pop, "polarization", nodes=64, progress=False)
    ended = time.perf_counter()
    stop.set()
    worker.join()
    during = [t for t in counts if started < t < ended]
    # With the GIL held, the counter would stand still for the whole call.
    assert ended - started > 0.2
    assert len(during) > 50, f"{len(during)} thousand counts in {ended - started:.2f} s"


@pytest.mark.parametrize("threads", [None, 2])
def test_ctrl_c_stops_between_sweeps(threads):
    pop = aumann.generate(agents=20_000, days=7, seed=1, progress=False)
    started = time.perf_counter()
    aumann.attribute(pop, "linear", nodes=16, threads=threads, progress=False)
    per_16 = time.perf_counter() - started
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        aumann.attribute(pop, "linear", nodes=4096, threads=threads, progress=False)
    elapsed = time.perf_counter() - started
    timer.cancel()
    # 4096 nodes would take 256 times the 16-node run; the interrupt came
    # at 0.3 s and the next sweep (8 nodes) honoured it.
    assert elapsed < 0.3 + 2 * per_16 + 1.0, f"stopped after {elapsed:.2f} s"


def test_indicator_parameters_come_from_the_declarations(aumann_bin, small):
    import inspect

    keywords = [p["keyword"] for p in aumann.PARAMETERS]
    assert keywords == ["kappa", "beta", "cascade_c", "epsilon", "lambda_", "depth"]
    assert {p["indicator"] for p in aumann.PARAMETERS} <= set(aumann.INDICATORS)
    # help(), IPython and notebooks show each as a keyword with its default.
    for function in (aumann.attribute, aumann.study):
        shown = inspect.signature(function).parameters
        for p in aumann.PARAMETERS:
            assert shown[p["keyword"]].kind == inspect.Parameter.KEYWORD_ONLY
            assert shown[p["keyword"]].default == p["default"]
    # The command line has a flag for each, with the same default.
    help_text = run_cli(aumann_bin, "attribute", "--help").stdout
    assert ", ".join(aumann.INDICATORS) + ", or all" in help_text
    for p in aumann.PARAMETERS:
        assert f"--{p['name']} " in help_text, p["name"]
        default = p["when_absent"] if p["default"] is None else f"{p['default']:g}"
        assert f"[default: {default}]" in help_text, p["name"]
    # A value given reaches the indicator, and summary.json records it.
    a = aumann.attribute(small, "cascade", beta=0.5, cascade_c=0.4, progress=False)
    assert a.summary["indicator"] == {"name": "cascade", "beta": 0.5, "cascade-c": 0.4}
    with pytest.raises(ValueError, match="no indicator takes kapa; the parameters are kappa, beta, cascade_c"):
        aumann.attribute(small, kapa=1.0)


def test_bad_settings(small):
    with pytest.raises(ValueError, match="unknown indicator"):
        aumann.attribute(small, "happiness")
    with pytest.raises(ValueError, match="kappa must be a finite number above 0"):
        aumann.attribute(small, kappa=-1.0)
    with pytest.raises(ValueError, match="cascade_c must be a share between 0 and 1"):
        aumann.attribute(small, "cascade", cascade_c=2.0)
    with pytest.raises(ValueError, match="network"):
        aumann.attribute(small, network="telepathy")
    with pytest.raises(ValueError, match="latency_quantile"):
        aumann.attribute(small, latency_quantile=0.0)
    # The study's own limits, in the package's spelling.
    with pytest.raises(ValueError, match="random_rankings takes 0 to 100; got 1000"):
        aumann.attribute(small, curves=True, random_rankings=1000)
    with pytest.raises(ValueError, match="permutations takes 0 to 100000"):
        aumann.study(small, permutations=10**6, progress=False)
    with pytest.raises(ValueError, match="tier"):
        aumann.attribute(small, tiers=(0.9, 0.5))
    with pytest.raises(ValueError, match="threads"):
        aumann.attribute(small, threads=0)
    with pytest.raises(ValueError, match="rule"):
        aumann.attribute(small, rule="simpson")
    with pytest.raises(ValueError, match="nodes"):
        aumann.attribute(small, nodes=0)
    # Counts below 0 name their keyword (the native call would say only
    # "can't convert negative int to unsigned").
    for kwargs, words in [
        ({"batch": -2}, "batch must be at least 1, got -2"),
        ({"ranking_seed": -1}, "ranking_seed must be at least 0"),
    ]:
        with pytest.raises(aumann.InvalidInputError, match=words):
            aumann.attribute(small, progress=False, **kwargs)
    with pytest.raises(TypeError, match="threads must be a whole number"):
        aumann.attribute(small, threads=1.5, progress=False)
    with pytest.raises(aumann.InvalidInputError, match="sample must be at least 0, got -1"):
        aumann.study(small, sample=-1, progress=False)
    with pytest.raises(aumann.InvalidInputError, match="process must be at least 0"):
        aumann.attribute(small, cluster=aumann.Cluster(process=-1), progress=False)
    with pytest.raises(TypeError):
        aumann.attribute("population.parquet")
    with pytest.raises(TypeError):
        aumann.attribute(small, tolerance="tight")


def test_a_flat_indicator_says_why(small):
    flat = aumann.Population.from_frames(small.agents.drop(columns=["stance"]), small.follows, small.activity)
    a = aumann.attribute(flat, "polarization", progress=False)
    assert "stance" in a.flat_cause and (a.agents.phi == 0).all()
    assert "flat" in repr(a)


def test_every_summary_field_the_package_reads_is_written(tmp_path, aumann_bin, small):
    from aumann import _summary

    small.write(tmp_path / "pop")
    run_cli(aumann_bin, "study", "--input", str(tmp_path / "pop"), "--indicator", "all", "--no-figures",
            "--out", str(tmp_path / "cli"))  # fmt: skip
    for summary in (
        json.loads((tmp_path / "cli" / "summary.json").read_text()),
        aumann.study(small, "all", curves=True, report=False, figures=False, progress=False),
    ):
        assert summary["schema"] == _summary.SCHEMA
        for path in _summary.TOP:
            _summary.field(summary, *path)
        for path in _summary.POPULATION:
            _summary.field(summary["population"], *path)
        assert len(summary["indicators"]) == len(aumann.INDICATORS)
        for entry in summary["indicators"]:
            for path in _summary.INDICATOR + _summary.INDICATOR_WHEN_ASKED:
                _summary.field(entry, *path)
    # A field the package does not declare is not read; one that is gone is
    # named.
    with pytest.raises(KeyError, match="not a declared summary field"):
        _summary.field(summary, "full", "nodez")
    entry = dict(summary["indicators"][0], full={})
    with pytest.raises(_summary.SummaryError, match="no full.gap"):
        _summary.field(entry, "full", "gap")
    with pytest.raises(_summary.SummaryError, match="schema 0"):
        _summary.check(dict(summary, schema=0))


def test_to_shap_names_each_agent_and_sums_to_the_indicator(small):
    shap = pytest.importorskip("shap")
    import matplotlib

    matplotlib.use("Agg")
    a = aumann.attribute(small, "cascade", progress=False)
    e = a.to_shap()
    assert isinstance(e, shap.Explanation)
    assert e.feature_names == small.agents["external_id"].tolist()
    np.testing.assert_array_equal(e.values, a.agents["phi"].to_numpy())
    np.testing.assert_array_equal(e.data, a.agents["activity"].to_numpy())
    assert e.base_values == a.baseline_value
    assert abs(e.base_values + e.values.sum() - a.value) <= abs(a.gap) + 1e-9 * abs(a.value)
    shap.plots.waterfall(e, max_display=10, show=False)
    shap.plots.bar(e, max_display=10, show=False)
    # SHAP draws on the current figure: leave none behind for other tests.
    import matplotlib.pyplot as plt

    plt.close("all")


def test_panel_draws_give_the_spread_of_the_sampled_panels(small):
    summary = aumann.study(small, "cascade", sample=40, permutations=0, curves=False, panel_draws=3, progress=False)
    draws = summary["indicators"][0]["panel_draws"]
    assert [d["kind"] for d in draws] == ["random", "snowball"]
    assert all(sum(d["verdicts"].values()) + d["skipped"] == 3 for d in draws)
    with pytest.raises(aumann.InvalidInputError, match="panel_draws must be at least 1"):
        aumann.study(small, panel_draws=0, progress=False)
