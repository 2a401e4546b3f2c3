"""Progress in a notebook: a ``tqdm.auto`` bar when tqdm is installed.

The work runs in Rust without the GIL and records its stage and position;
the thread waiting for it hands the latest to :class:`Bar` every 50 ms
(crates/python/src/observe.rs). Without tqdm, ``progress=True`` keeps the
command line's bar on a terminal and stays quiet in a notebook.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

# A call shorter than this draws no bar.
DELAY_SECONDS = 1.0


def _factory() -> Optional[Callable[..., Any]]:
    """tqdm.auto's bar (a widget in a notebook, text on a terminal), or None
    when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm  # type: ignore[no-any-return]


class Bar:
    """One bar for one call: its description the stage, its position and
    total the work's, its postfix what is counted."""

    def __init__(self, factory: Callable[..., Any]) -> None:
        self._factory = factory
        self._bar: Any = None
        self._stage: Optional[str] = None

    def update(self, stage: str, done: int, total: Optional[int], detail: str) -> None:
        if self._bar is None:
            self._bar = self._factory(total=total, desc=stage, delay=DELAY_SECONDS, dynamic_ncols=True)
            self._stage = stage
        elif stage != self._stage:
            self._bar.reset(total=total)
            self._bar.set_description_str(stage, refresh=False)
            self._stage = stage
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        self._bar.set_postfix_str(detail, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def sink(progress: bool) -> Any:
    """What the native calls take as ``progress``: False, a :class:`Bar`
    when tqdm is installed, else True (the terminal's bar)."""
    if not progress:
        return False
    factory = _factory()
    return True if factory is None else Bar(factory)
