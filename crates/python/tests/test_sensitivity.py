"""The sensitivity analysis from Python: the command line's numbers and
table, a user's baseline as a DataFrame, and bad settings refused."""

import json

import pandas as pd
import pytest

import aumann
from conftest import run_cli


def test_the_analysis_is_the_command_lines_with_its_table(tmp_path, aumann_bin, small):
    small.write(tmp_path / "pop")
    run_cli(aumann_bin, "sensitivity", "--input", str(tmp_path / "pop"), "--indicator", "cascade", "--out", str(tmp_path / "s"))
    cli = json.loads((tmp_path / "s" / "summary.json").read_text())["indicators"][0]["sensitivity"]
    s = aumann.sensitivity(aumann.read_population(tmp_path / "pop", progress=False), "cascade", progress=False)
    numbers = lambda alternatives: [(a["name"], a["gap"], a.get("numbers")) for a in alternatives]  # noqa: E731
    assert numbers(s.summary["sensitivity"]["alternatives"]) == numbers(cli["alternatives"])
    assert s.robust == cli["robust"]
    table = pd.read_parquet(tmp_path / "s" / "sensitivity-cascade.parquet")
    assert list(table.columns) == ["alternative", "group", "number", "value"]
    assert table.equals(s.table)
    alternatives = s.alternatives
    assert alternatives["group"].iloc[0] == "reference"
    assert set(alternatives["group"]) == {"reference", "baseline", "path", "parameter"}
    # The long table holds each alternative's numbers as the wide one does.
    half = alternatives[alternatives["alternative"].str.startswith("every gate at 0.5")].iloc[0]
    row = table[(table["alternative"] == half["alternative"]) & (table["number"] == "delta")]
    assert row["value"].iloc[0] == half["delta"]
    assert list(s.conclusions.columns) == ["statement", "tried", "holds", "changes_under", "verdict"]
    assert "outside_head_share" in s.ranges.index
    assert s.attribution.sensitivity is not None and s.attribution.indicator == "cascade"


def test_a_baseline_given_as_a_dataframe_is_the_same_as_every_gate_at_that_value(small):
    a = aumann.attribute(small, "cascade", progress=False)
    table = pd.DataFrame({"external_id": a.agents["external_id"], "baseline": 0.5})
    s = aumann.sensitivity(small, "cascade", baseline=table, progress=False)
    users = s.alternatives[s.alternatives["alternative"].str.startswith("the user's baseline")].iloc[0]
    half = s.alternatives[s.alternatives["alternative"].str.startswith("every gate at 0.5")].iloc[0]
    assert users["delta"] == pytest.approx(half["delta"], rel=1e-10)
    assert users["head_share"] == pytest.approx(half["head_share"], rel=1e-9)


def test_bad_settings_are_refused_with_the_keywords_names(small):
    with pytest.raises(aumann.InvalidInputError, match="sensitivity must be one of none, default, full"):
        aumann.attribute(small, "cascade", sensitivity="some", progress=False)
    with pytest.raises(aumann.InvalidInputError, match="baseline= is an alternative of the sensitivity analysis"):
        aumann.attribute(small, "cascade", baseline="b.csv", progress=False)
    with pytest.raises(aumann.InvalidInputError, match="baseline 2 is not a gate value"):
        aumann.sensitivity(
            small, "cascade", baseline=pd.DataFrame({"external_id": ["x"], "baseline": [2.0]}), progress=False
        )
    with pytest.raises(TypeError, match="baseline needs the columns external_id and baseline"):
        aumann.sensitivity(small, "cascade", baseline=pd.DataFrame({"id": ["x"]}), progress=False)
    with pytest.raises(aumann.InvalidInputError, match="takes one indicator"):
        aumann.sensitivity(small, "all", progress=False)
