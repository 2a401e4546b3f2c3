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
        ({"indicator": "polarization"}, "only the cascade has an observation model"),
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
