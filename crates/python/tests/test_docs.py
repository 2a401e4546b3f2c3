"""docs/python.md is true: its walk through runs as written (the blocks
marked "not run here" need files or packages the tests do not have), and
the compiled module's stubs name what the module has."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import aumann

REPO = Path(__file__).resolve().parents[3]


def test_the_walk_through_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    text = (REPO / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    run = [b for b in blocks if not b.startswith("# not run here")]
    assert len(run) >= 8, "the walk through lost its examples"
    namespace: dict = {}
    for block in run:
        exec(compile(block, "docs/python.md", "exec"), namespace)
    a = namespace["a"]
    assert a.relative_gap < 1e-6 and len(a.agents) == 20_000
    assert (tmp_path / "out" / "tiers.png").stat().st_size > 0
    assert (tmp_path / "out" / "study" / "report.html").is_file()
    assert namespace["summary"]["indicators"][0]["panels"]
    assert abs(namespace["r"].convergence_delta) < 1e-6


def test_the_walk_through_type_checks_strictly(tmp_path):
    # The examples as a user's script: `mypy --strict` must accept them, so
    # that `aumann.attribute(pop).agents` and the like type-check as written.
    text = (REPO / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    script = tmp_path / "walk_through.py"
    script.write_text("\n".join(b for b in blocks if not b.startswith("# not run here")))
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_stubs_name_what_the_module_has():
    stub = ast.parse((REPO / "crates" / "python" / "python" / "aumann" / "_native.pyi").read_text())
    declared = {
        node.targets[0].id if isinstance(node, ast.Assign) else getattr(node, "name", None) or node.target.id
        for node in stub.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AnnAssign, ast.Assign))
    }
    present = {name for name in dir(aumann._native) if not name.startswith("_") or name == "__version__"}
    assert declared == present
    population = next(n for n in stub.body if isinstance(n, ast.ClassDef) and n.name == "Population")
    methods = {n.name for n in population.body if isinstance(n, ast.FunctionDef)}
    assert methods == {m for m in dir(aumann._native.Population) if not m.startswith("_")}
    typed = REPO / "crates" / "python" / "python" / "aumann" / "py.typed"
    assert typed.is_file() and (Path(aumann.__file__).parent / "py.typed").is_file()
    assert os.path.basename(aumann._native.__file__).startswith("_native")


def test_the_docstring_examples_run():
    import doctest

    import numpy as np
    import pandas as pd

    from aumann import _attribution, _engine, _population

    for module in (aumann, _population, _attribution, _engine):
        result = doctest.testmod(module, extraglobs={"aumann": aumann, "np": np, "pd": pd}, verbose=False)
        assert result.failed == 0, f"{module.__name__}: {result.failed} docstring examples failed"
    assert doctest.testmod(_engine, extraglobs={"aumann": aumann, "np": np}).attempted >= 3
