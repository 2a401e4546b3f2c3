"""Progress in a notebook: with tqdm installed, progress=True hands the
work's stages and positions to a tqdm.auto bar, from Rust without the
GIL; progress=False draws nothing; a bar that fails stops the call with
its error."""

import io

import pytest

import aumann
from aumann import _progress


class Recorder:
    """A stand-in for tqdm's bar that keeps what it was told."""

    made: list = []

    def __init__(self, total=None, desc=None, delay=0.0, dynamic_ncols=False):
        self.total, self.n, self.stages, self.postfixes = total, 0, [desc], []
        self.delay, self.closed = delay, False
        Recorder.made.append(self)

    def reset(self, total=None):
        self.total, self.n = total, 0

    def set_description_str(self, desc, refresh=True):
        self.stages.append(desc)

    def set_postfix_str(self, s, refresh=True):
        self.postfixes.append(s)

    def refresh(self):
        pass

    def close(self):
        self.closed = True


def test_a_long_call_reports_its_stages_to_one_bar(monkeypatch):
    monkeypatch.setattr(_progress, "_factory", lambda: Recorder)
    Recorder.made = []
    pop = aumann.generate(agents=3000, days=4, seed=2)
    a = aumann.attribute(pop, "polarization", nodes=64)
    assert a.relative_gap < 1e-6
    assert len(Recorder.made) == 2, "one bar per call"
    bar = Recorder.made[1]
    assert bar.closed and bar.delay == _progress.DELAY_SECONDS
    assert any("attributing polarization" in s for s in bar.stages), bar.stages
    # It ended where the work did: the last stage's count at its total.
    assert bar.total is None or bar.n == bar.total, (bar.n, bar.total, bar.stages)


def test_progress_false_draws_no_bar(monkeypatch):
    monkeypatch.setattr(_progress, "_factory", lambda: Recorder)
    Recorder.made = []
    aumann.generate(agents=500, days=2, progress=False)
    assert Recorder.made == []


def test_the_real_tqdm_bar_takes_the_updates(monkeypatch):
    tqdm = pytest.importorskip("tqdm.std").tqdm
    out = io.StringIO()
    monkeypatch.setattr(_progress, "_factory", lambda: lambda **kw: tqdm(file=out, **{**kw, "delay": 0}))
    aumann.generate(agents=20_000, days=3, seed=1)
    assert "generating" in out.getvalue() or "agents" in out.getvalue(), out.getvalue()


def test_a_bar_that_fails_stops_the_call_with_its_error(monkeypatch):
    class Broken(Recorder):
        def refresh(self):
            raise RuntimeError("cannot draw")

    monkeypatch.setattr(_progress, "_factory", lambda: Broken)
    with pytest.raises(RuntimeError, match="cannot draw"):
        aumann.generate(agents=20_000, days=3)
