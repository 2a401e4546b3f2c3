"""A run as one process of a cluster, from Python: the same call in every
process, the numbers of one process bit for bit, the outputs written by
process 0 alone, checkpoints gone once they are, and bad places refused
before any work."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import aumann

# Every process runs this, changing only its index.
PROCESS = r"""
import json, sys
import aumann
population, hostfile, process, out, checkpoint = sys.argv[1:6]
summary = aumann.study(
    aumann.read_population(population, progress=False),
    "cascade",
    sample=20,
    permutations=20,
    random_rankings=2,
    out=out,
    checkpoint=checkpoint,
    cluster=aumann.Cluster(process=int(process), hostfile=hostfile, workers=2, connect_timeout=60),
    progress=False,
)
print(json.dumps(None if summary is None else summary["indicators"][0]["full"]["gap"]))
"""


def free_ports(count: int) -> list:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def parquet_bytes(directory: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.parquet"))}


def test_two_python_processes_give_one_process_numbers_bit_for_bit(tmp_path, small):
    small.write(tmp_path / "pop")
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("".join(f"127.0.0.1:{p}\n" for p in free_ports(2)))
    out, checkpoints = tmp_path / "cluster", tmp_path / "checkpoints"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PROCESS, str(tmp_path / "pop"), str(hostfile), str(i), str(out), str(checkpoints)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    results = [p.communicate(timeout=600) for p in processes]
    for i, (process, (stdout, stderr)) in enumerate(zip(processes, results)):
        assert process.returncode == 0, f"process {i} failed:\n{stderr}"
    gap_0, gap_1 = (json.loads(stdout) for stdout, _ in results)
    assert gap_0 is not None and gap_1 is None, "process 0 returns the summary, the other None"
    assert not checkpoints.exists(), "the checkpoints go once the outputs are written"

    alone = aumann.study(
        aumann.read_population(tmp_path / "pop", progress=False),
        "cascade",
        sample=20,
        permutations=20,
        random_rankings=2,
        out=tmp_path / "alone",
        # A cluster makes no sensitivity analysis (by default, none).
        sensitivity="none",
        progress=False,
    )
    assert alone["indicators"][0]["full"]["gap"] == gap_0
    tables = parquet_bytes(tmp_path / "alone")
    assert {"attributions-cascade.parquet", "steps-cascade.parquet", "curves-cascade.parquet"} <= set(tables)
    assert parquet_bytes(out) == tables
    assert (out / "report.html").is_file() and (out / "figures").is_dir()
    cluster_summary = json.loads((out / "summary.json").read_text())
    assert "sensitivity" not in cluster_summary["indicators"][0]
    panels = [without_timings(s["indicators"][0]["panels"]) for s in (cluster_summary, alone)]
    assert panels[0] == panels[1] and len(panels[0]) == 3


def test_a_cluster_of_one_process_with_two_workers_runs_in_this_process(small):
    [port] = free_ports(1)
    alone = aumann.attribute(small, "polarization", progress=False)
    shared = aumann.attribute(
        small,
        "polarization",
        cluster=aumann.Cluster(process=0, processes=1, workers=2, first_port=port),
        progress=False,
    )
    assert shared is not None
    assert shared.agents["phi"].to_numpy().tobytes() == alone.agents["phi"].to_numpy().tobytes()
    assert shared.steps["phi"].to_numpy().tobytes() == alone.steps["phi"].to_numpy().tobytes()


@pytest.mark.parametrize(
    "cluster, threads, words",
    [
        (aumann.Cluster(process=2, processes=2), None, "process 2 is not below the number of processes (2)"),
        (aumann.Cluster(process=0, processes=1, workers=0), None, "workers takes 1 to"),
        (aumann.Cluster(process=0, processes=1), 2, "threads sets the threads of a run in one process"),
        (aumann.Cluster(process=0, processes=1, peer_timeout=-1), None, "peer_timeout takes a positive number"),
        ("process 0", None, "cluster must be an aumann.Cluster"),
    ],
)
def test_a_place_no_cluster_has_is_refused_before_any_work(small, cluster, threads, words):
    with pytest.raises(aumann.InvalidInputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        aumann.attribute(small, cluster=cluster, threads=threads, progress=False)


def test_a_hostfile_that_disagrees_with_the_process_count_is_refused(tmp_path, small):
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("127.0.0.1:1\n127.0.0.1:2\n127.0.0.1:3\n")
    with pytest.raises(aumann.InvalidInputError, match="processes 2, but the hostfile .* names 3 processes"):
        aumann.attribute(small, cluster=aumann.Cluster(process=0, processes=2, hostfile=hostfile), progress=False)


def test_checkpoints_of_a_finished_attribution_are_removed_and_change_no_number(tmp_path, small):
    alone = aumann.attribute(small, "cascade", progress=False)
    saved = aumann.attribute(small, "cascade", checkpoint=tmp_path / "checkpoints", progress=False)
    assert saved.agents["phi"].to_numpy().tobytes() == alone.agents["phi"].to_numpy().tobytes()
    assert not (tmp_path / "checkpoints").exists()
