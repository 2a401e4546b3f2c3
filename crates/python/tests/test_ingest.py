"""Both ingests from Python give the command line's populations."""

import json
import random
import sqlite3
from pathlib import Path

import pytest

import aumann
from conftest import run_cli

REPO = Path(__file__).resolve().parents[3]
JETSTREAM = REPO / "crates" / "data" / "tests" / "fixtures" / "jetstream-examples.jsonl"

# The OASIS tables this project reads, as OASIS creates them (shared with
# the Rust tests).
OASIS_SCHEMA = (REPO / "crates" / "data" / "tests" / "fixtures" / "oasis-schema.sql").read_text()


def oasis_run(path: Path, users: int = 30, steps: int = 6, seed: int = 1) -> None:
    """A small OASIS run: users follow a few others, post, like and repost
    what their refreshed feed shows."""
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.executescript(OASIS_SCHEMA)
    for u in range(users):
        db.execute("INSERT INTO user (user_id, agent_id, user_name, created_at) VALUES (?, ?, ?, 0)", (u + 1, u, f"u{u}"))
    for u in range(users):
        for v in rng.sample(range(users), 3):
            if v != u:
                db.execute("INSERT INTO follow (follower_id, followee_id, created_at) VALUES (?, ?, 0)", (u + 1, v + 1))
    posts = []
    for t in range(steps):
        for u in range(users):
            if rng.random() < 0.3:
                cur = db.execute("INSERT INTO post (user_id, content, created_at) VALUES (?, 'hello', ?)", (u + 1, t))
                posts.append(cur.lastrowid)
            if posts and rng.random() < 0.5:
                shown = rng.sample(posts, min(3, len(posts)))
                info = json.dumps({"posts": [{"post_id": p} for p in shown]})
                db.execute("INSERT INTO trace VALUES (?, ?, 'refresh', ?)", (u + 1, t, info))
                liked = shown[0]
                db.execute('INSERT INTO "like" (user_id, post_id, created_at) VALUES (?, ?, ?)', (u + 1, liked, t))
                db.execute("INSERT INTO trace VALUES (?, ?, 'like_post', ?)", (u + 1, t, json.dumps({"post_id": liked})))
    db.commit()
    db.close()


def test_jetstream_matches_the_command_line(tmp_path, aumann_bin):
    pop, report = aumann.ingest_jetstream(JETSTREAM, days=2)
    assert report["lines"] == 13
    run_cli(aumann_bin, "ingest", "jetstream", str(JETSTREAM), "--days", "2", "--out", str(tmp_path / "js"))
    assert aumann.read_population(tmp_path / "js", progress=False).content_id == pop.content_id
    with pytest.raises(FileNotFoundError):
        aumann.ingest_jetstream(tmp_path / "absent.jsonl")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        aumann.ingest_jetstream(JETSTREAM, start="yesterday")


def test_oasis_matches_the_command_line(tmp_path, aumann_bin):
    db = tmp_path / "run.db"
    oasis_run(db)
    pop, report = aumann.ingest_oasis(db)
    assert report["users"] == 30 and report["exposures"] > 0
    assert not pop.exposures.empty
    run_cli(aumann_bin, "ingest", "oasis", str(db), "--out", str(tmp_path / "oasis"))
    assert aumann.read_population(tmp_path / "oasis", progress=False).content_id == pop.content_id
    reach = aumann.attribute(pop, "cascade", progress=False)
    assert reach.relative_gap < 1e-6 and reach.delta > 0
    with pytest.raises(FileNotFoundError):
        aumann.ingest_oasis(tmp_path / "absent.db")
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(aumann.Error):
        aumann.ingest_oasis(tmp_path / "junk.db")


def test_twitter_trees_match_the_command_line(tmp_path, aumann_bin):
    tree = tmp_path / "twitter15" / "tree"
    tree.mkdir(parents=True)
    (tmp_path / "twitter15" / "label.txt").write_text("false:1\nnon-rumor:2\n")
    (tree / "1.txt").write_text(
        "['ROOT', 'ROOT', '0.0']->['a', '1', '0.0']\n"
        "['a', '1', '0.0']->['b', '11', '75.5']\n"
        "['b', '11', '75.5']->['c', '12', '130.0']\n"
        "['a', '1', '0.0']->['c', '13', '140.0']\n"
    )
    (tree / "2.txt").write_text("['ROOT', 'ROOT', '0.0']->['a', '2', '0.0']\n['a', '2', '0.0']->['d', '21', '-2.0']\n")
    run_cli(aumann_bin, "ingest", "twitter-trees", str(tmp_path / "twitter15"), "--out", str(tmp_path / "pop"))
    pop, report = aumann.ingest_twitter_trees(tmp_path / "twitter15")
    assert aumann.read_population(tmp_path / "pop", progress=False).content_id == pop.content_id
    assert report["trees"] == 2 and report["trees_by_label"] == {"false": 1, "non-rumor": 1}
    assert report["tally"]["used"]["retweets"] == 2
    assert report["tally"]["skipped"]["retweets by a user already in the tree (the first kept)"] == 1
    assert report["tally"]["skipped"]["reposts and quotes whose parent is dated after them"] == 1
    assert pop.n_agents == 4 and pop.n_steps == 3
    with pytest.raises(aumann.NotFoundError):
        aumann.ingest_twitter_trees(tmp_path / "nowhere")
