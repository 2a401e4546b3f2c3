import os
import signal
import subprocess
from pathlib import Path

import pytest

import aumann


@pytest.fixture(scope="session", autouse=True)
def python_handles_ctrl_c():
    """The Ctrl-C tests send SIGINT with _thread.interrupt_main, which does
    nothing while SIGINT is ignored, as it is for a test run started in the
    background by a shell without job control (`cmd &` in a script): there
    each of them would wait out its whole slow call. Python's own handler,
    as in an interactive run, for the session."""
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.fixture(scope="session")
def aumann_bin() -> Path:
    """The command line's binary, which scripts/test-python builds and names
    in AUMANN_BIN."""
    path = os.environ.get("AUMANN_BIN")
    if not path or not Path(path).is_file():
        pytest.fail("AUMANN_BIN must name the aumann binary: run these tests with scripts/test-python")
    return Path(path)


def run_cli(binary: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AUMANN_NO_PROGRESS="1")
    out = subprocess.run([str(binary), *args], capture_output=True, text=True, env=env)
    assert out.returncode == 0, f"aumann {' '.join(args)} failed:\n{out.stderr}"
    return out


@pytest.fixture(scope="session")
def small() -> aumann.Population:
    """A small built-in population: 2,000 agents over 5 days."""
    return aumann.generate(agents=2000, days=5, seed=7, progress=False)
