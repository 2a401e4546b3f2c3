"""Populations from pandas, to Parquet and back, and their bad inputs."""

import numpy as np
import pandas as pd
import pytest

import aumann
from conftest import run_cli


def frames():
    agents = pd.DataFrame({"external_id": ["ann", "bob", "cy", "dee"], "stance": [0.1, 0.2, 0.8, 0.9]})
    follows = pd.DataFrame({"follower": [0, 1, 2, 3, 3], "followee": [2, 2, 3, 0, 1]})
    activity = pd.DataFrame({"agent": [2, 2, 3, 0], "step": [0, 2, 1, 1], "amount": [1.0, 2.0, 3.0, 1.5]})
    engagements = pd.DataFrame({"engager": [0], "author": [2], "step": [2], "amount": [1.0]})
    exposures = pd.DataFrame(
        {"reader": [1, 0], "author": [3, 3], "step": [1, 2], "amount": [1.0, 0.5], "posted": [1, None]}
    )
    return agents, follows, activity, engagements, exposures


def test_frames_fill_the_defaults():
    agents, follows, activity, engagements, exposures = frames()
    pop = aumann.Population.from_frames(agents, follows, activity, engagements, exposures=exposures)
    assert (pop.n_agents, pop.n_steps) == (4, 3)  # steps: one past the largest step in any table
    a = pop.agents
    assert a.agent.tolist() == [0, 1, 2, 3]
    # Followers counted from the follows: 2 follows 3, 3 follows 0 and 1, 0 and 1 follow 2.
    assert a.followers.tolist() == [1.0, 1.0, 2.0, 1.0]
    assert pop.orders.empty and list(pop.orders.columns) == ["agent", "step", "flow"]
    assert pop.exposures.posted.isna().tolist() == [False, True]
    assert len(pop) == 4 and "4 agents" in repr(pop)


def test_pandas_to_parquet_and_back(tmp_path, aumann_bin):
    agents, follows, activity, engagements, exposures = frames()
    pop = aumann.Population.from_frames(agents, follows, activity, engagements, exposures=exposures, steps=4)
    pop.write(tmp_path / "pop")
    back = aumann.read_population(tmp_path / "pop", progress=False)
    assert back.content_id == pop.content_id
    for name, frame in pop.frames().items():
        pd.testing.assert_frame_equal(frame, back.table(name), check_exact=True)
        # pandas reads the same files as the package writes them.
        on_disk = pd.read_parquet(tmp_path / "pop" / f"{name}.parquet")
        pd.testing.assert_frame_equal(on_disk, frame, check_exact=True, check_dtype=False)
    assert pd.read_parquet(tmp_path / "pop" / "agents.parquet").external_id.tolist() == ["ann", "bob", "cy", "dee"]
    # The command line reads what Python wrote.
    out = run_cli(aumann_bin, "attribute", "--input", str(tmp_path / "pop"), "--indicator", "linear",
                  "--out", str(tmp_path / "out"))  # fmt: skip
    assert "linear" in out.stdout


def test_a_table_edited_with_pandas_is_read_with_a_warning(tmp_path):
    agents, follows, activity, engagements, exposures = frames()
    pop = aumann.Population.from_frames(agents, follows, activity, engagements, exposures=exposures, steps=4)
    pop.write(tmp_path / "pop")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aumann.read_population(tmp_path / "pop", progress=False)
    table = pd.read_parquet(tmp_path / "pop" / "agents.parquet")
    table.loc[0, "stance"] = 0.9
    table.to_parquet(tmp_path / "pop" / "agents.parquet")
    with pytest.warns(UserWarning, match="agents.parquet changed since this program wrote the population"):
        back = aumann.read_population(tmp_path / "pop", progress=False)
    assert back.agents.stance[0] == 0.9


def test_generate_matches_the_command_line(tmp_path, aumann_bin):
    run_cli(aumann_bin, "synth", "--agents", "1500", "--days", "4", "--seed", "3", "--out", str(tmp_path / "synth"))
    from_cli = aumann.read_population(tmp_path / "synth", progress=False)
    from_python = aumann.generate(agents=1500, days=4, seed=3, progress=False)
    assert from_cli.content_id == from_python.content_id
    assert from_python.metadata["source"] == "synth"


def test_bad_tables_are_named_errors():
    agents, follows, activity, engagements, _ = frames()
    unknown = pd.DataFrame({"follower": [0], "followee": [9]})
    with pytest.raises(ValueError, match="follow"):
        aumann.Population.from_frames(agents, unknown)
    nan = activity.assign(amount=[1.0, np.nan, 3.0, 1.0])
    with pytest.raises(aumann.InvalidInputError):
        aumann.Population.from_frames(agents, follows, nan)
    negative = pd.DataFrame({"follower": [-1], "followee": [0]})
    with pytest.raises(aumann.InvalidInputError, match="does not fit"):
        aumann.Population.from_frames(agents, negative)
    words = pd.DataFrame({"follower": ["ann"], "followee": ["bob"]})
    with pytest.raises(TypeError, match="follower"):
        aumann.Population.from_frames(agents, words)
    with pytest.raises(aumann.InvalidInputError, match="step"):
        aumann.Population.from_frames(agents, follows, activity, steps=2)
    with pytest.raises(ValueError, match="followee"):
        aumann.Population.from_frames(agents, pd.DataFrame({"follower": [0]}))
    with pytest.raises(TypeError):
        aumann.Population.from_frames([1, 2, 3])
    with pytest.raises(aumann.InvalidInputError):
        aumann.Population.from_frames(agents.iloc[:0])


def test_missing_and_bad_directories(tmp_path):
    with pytest.raises(FileNotFoundError):
        aumann.read_population(tmp_path / "nothing")
    with pytest.raises(aumann.NotFoundError):
        aumann.read_population(tmp_path)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metadata.json").write_text("{ not json")
    with pytest.raises(aumann.Error):
        aumann.read_population(tmp_path / "broken")


def test_generator_limits():
    with pytest.raises(ValueError, match="agents >= 2"):
        aumann.generate(agents=1, days=3)
    with pytest.raises(ValueError, match="at most"):
        aumann.generate(agents=10**9, days=3)
    with pytest.raises(ValueError, match="feed"):
        aumann.generate(agents=100, days=3, feed=5000)
    with pytest.raises(TypeError):
        aumann.generate(agents="many")


def test_stance_estimate_makes_a_new_population(small):
    flat = aumann.Population.from_frames(
        small.agents.drop(columns=["stance"]), small.follows, small.activity, small.engagements, small.orders
    )
    assert (flat.agents.stance == 0.5).all()
    estimated, diagnostics = flat.estimate_stance("follows")
    assert diagnostics["method"] == "follows" and diagnostics["estimated"] > 0
    assert estimated.agents.stance.std() > 0.05
    assert (flat.agents.stance == 0.5).all()  # the original is unchanged
    with pytest.raises(ValueError, match="unknown stance method"):
        flat.estimate_stance("astrology")
