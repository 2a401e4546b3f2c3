"""The fit from Python: the command line's fit.json, its values passed on
to an attribution, and bad settings refused."""

import json
import math

import pytest

import aumann
from conftest import run_cli


def test_the_fit_is_the_command_lines_and_its_values_reach_the_attribution(tmp_path, aumann_bin, small):
    small.write(tmp_path / "pop")
    run_cli(aumann_bin, "fit", "--input", str(tmp_path / "pop"), "--out", str(tmp_path / "fit"))
    cli = json.loads((tmp_path / "fit" / "fit.json").read_text())
    fit = aumann.fit(aumann.read_population(tmp_path / "pop", progress=False), progress=False)
    assert fit.summary == cli
    assert fit.indicator == "cascade"
    table = fit.parameters
    assert list(table.index) == ["beta", "cascade-c"]
    for p in cli["parameters"]:
        row = table.loc[p["name"]]
        assert row["used"] == p["used"] and row["identified"] == p["identified"]
        for k, end in enumerate(("lower", "upper")):
            assert (math.isnan(row[end]) and p["interval"][k] is None) or row[end] == p["interval"][k]
    assert set(fit.params) == {"beta", "cascade_c"}
    held = fit.held_out
    assert list(held.index) == ["fitted", "defaults", "constant_rate"]
    assert held.loc["constant_rate", "auc"] == 0.5
    # Five steps: four read steps, one held out, so each is also left out
    # in turn.
    cv = fit.cross_validated
    assert list(cv.index) == ["fitted", "defaults", "constant_rate"]
    assert cv.loc["fitted", "observations"] == cli["cross_validated"]["fitted"]["observations"]
    assert cli["cross_validated"]["folds"] == 4
    steps = fit.responses_per_step
    assert list(steps.columns) == ["at_risk", "observed", "fitted", "defaults", "constant_rate"]
    assert steps["observed"].sum() == cli["data"]["responses"]
    attribution = aumann.attribute(small, "cascade", progress=False, **fit.params)
    indicator = attribution.summary["indicator"]
    assert (indicator["beta"], indicator["cascade-c"]) == (fit.params["beta"], fit.params["cascade_c"])
    assert json.loads(fit.to_json()) == cli


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"indicator": "attention"}, "the indicators with an observation model are cascade and polarization"),
        ({"indicator": "polarization"}, "pass stances="),
        ({"held_out": 1.0}, r"held_out is a share of the steps in \[0, 1\)"),
        ({"network": "radio"}, "radio"),
    ],
)
def test_bad_fit_settings_are_refused(small, kwargs, words):
    with pytest.raises(aumann.InvalidInputError, match=words):
        aumann.fit(small, progress=False, **kwargs)


def test_fit_true_fits_first_and_attributes_with_the_fitted_values(small):
    a = aumann.attribute(small, "cascade", fit=True, progress=False)
    assert a.fit is not None and a.fit.indicator == "cascade"
    indicator = a.summary["indicator"]
    assert (indicator["beta"], indicator["cascade-c"]) == (a.fit.params["beta"], a.fit.params["cascade_c"])
    assert aumann.attribute(small, "cascade", progress=False).fit is None
    summary = aumann.study(small, "cascade", fit=True, sample=0, curves=False, progress=False)
    assert summary["fit"]["parameters"] == a.fit.summary["parameters"]
    with pytest.raises(aumann.InvalidInputError, match="fit fits the cascade's parameters"):
        aumann.attribute(small, "polarization", fit=True, progress=False)


def _stances(population: aumann.Population) -> "pd.DataFrame":
    """Stances at every step that drift with the step, for every agent."""
    import pandas as pd

    ids = population.agents["external_id"].tolist()
    rows = [
        (agent, step, 0.5 + 0.4 * math.sin(1.7 * k + 0.3 * step))
        for k, agent in enumerate(ids)
        for step in range(5)
    ]
    return pd.DataFrame(rows, columns=["external_id", "step", "stance"])


def test_polarization_is_fitted_to_a_table_or_a_csv_as_the_command_line_fits_it(tmp_path, aumann_bin, small):
    small.write(tmp_path / "pop")
    table = _stances(small)
    table.loc[len(table)] = ["nobody", 0, 0.5]
    csv = tmp_path / "stances.csv"
    table.to_csv(csv, index=False)
    run_cli(
        aumann_bin, "fit", "--input", str(tmp_path / "pop"), "--indicator", "polarization",
        "--stances", str(csv), "--out", str(tmp_path / "fit"),
    )
    cli = json.loads((tmp_path / "fit" / "fit.json").read_text())
    with pytest.warns(UserWarning, match="1 stance rows name accounts the population does not hold"):
        from_table = aumann.fit(small, "polarization", stances=table, progress=False)
    with pytest.warns(UserWarning):
        from_csv = aumann.fit(small, "polarization", stances=csv, progress=False)
    assert from_table.summary == cli and from_csv.summary == cli
    assert list(from_table.parameters.index) == ["kappa"]
    assert list(from_table.held_out.index) == ["fitted", "defaults", "no_dynamics"]
    assert list(from_table.trajectory.index) == list(range(5))
    assert from_table.responses_per_step is None
    assert set(from_table.params) == {"kappa"}


@pytest.mark.parametrize(
    "stances, error, words",
    [
        ("bad-step", aumann.InvalidInputError, "step 5 is outside the population's window of 5 steps"),
        ("bad-value", aumann.InvalidInputError, "stance 1.5 is outside"),
        ("twice", aumann.InvalidInputError, "two stances at step 0"),
        ("columns", TypeError, "lacks stance"),
        ("number", TypeError, "stances must be a pandas DataFrame or a CSV path"),
    ],
)
def test_bad_stances_are_refused_with_the_row_that_is_wrong(small, stances, error, words):
    import pandas as pd

    one = small.agents["external_id"].iloc[0]
    given = {
        "bad-step": pd.DataFrame({"external_id": [one], "step": [5], "stance": [0.5]}),
        "bad-value": pd.DataFrame({"external_id": [one], "step": [0], "stance": [1.5]}),
        "twice": pd.DataFrame({"external_id": [one, one], "step": [0, 0], "stance": [0.2, 0.3]}),
        "columns": pd.DataFrame({"external_id": [one], "step": [0]}),
        "number": 3,
    }[stances]
    with pytest.raises(error, match=words):
        aumann.fit(small, "polarization", stances=given, progress=False)


def test_fit_true_with_stances_fits_polarization_and_attributes_with_its_kappa(small):
    table = _stances(small)
    a = aumann.attribute(small, "polarization", fit=True, stances=table, progress=False)
    assert a.fit is not None and a.fit.indicator == "polarization"
    assert a.summary["indicator"]["kappa"] == a.fit.params["kappa"]
    assert a.fit.summary == aumann.fit(small, "polarization", stances=table, progress=False).summary
    summary = aumann.study(small, "polarization", fit=True, stances=table, sample=0, curves=False, progress=False)
    assert summary["fit"]["indicator"] == "polarization"
    with pytest.raises(aumann.InvalidInputError, match="stances are the observations of a fit: give fit too"):
        aumann.attribute(small, "polarization", stances=table, progress=False)
    with pytest.raises(aumann.InvalidInputError, match="choose polarization among the indicators"):
        aumann.attribute(small, "cascade", fit=True, stances=table, progress=False)
