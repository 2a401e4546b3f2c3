"""Populations: read, written, generated, ingested, or built from pandas."""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _native
from ._tables import to_batch, to_frame

PathLike = Union[str, "os.PathLike[str]"]

#: The tables of a population, by name, and their files.
TABLES = ("agents", "follows", "activity", "engagements", "orders", "exposures", "reposts")

_EMPTY = {
    "follows": {"follower": np.uint32, "followee": np.uint32},
    "activity": {"agent": np.uint32, "step": np.uint32, "amount": np.float64},
    "engagements": {"engager": np.uint32, "author": np.uint32, "step": np.uint32, "amount": np.float64},
    "orders": {"agent": np.uint32, "step": np.uint32, "flow": np.float64},
}

# Columns that hold steps, per table: the default step count is one past
# the largest of them.
_STEP_COLUMNS = {
    "follows": ("step", "end_step"),
    "activity": ("step",),
    "engagements": ("step",),
    "orders": ("step",),
    "exposures": ("step", "posted"),
    "reposts": ("step", "parent_step"),
}


def _follower_counts(follows: Optional[pd.DataFrame], n: int) -> np.ndarray:
    """Followers per agent, counted from the follows' followee column.
    Ids that are no agent's are left out here: the table's check refuses
    them with their row."""
    if follows is None or "followee" not in follows.columns or n == 0:
        return np.zeros(n)
    ids = pd.to_numeric(follows["followee"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    ids = ids[np.isfinite(ids) & (ids >= 0) & (ids < n) & (ids == np.floor(ids))]
    return np.bincount(ids.astype(np.int64), minlength=n).astype(np.float64)


class Population:
    """A population: agents, who follows whom, and what each did at each step.

    Immutable; read one with :func:`read_population`, generate one with
    :func:`generate`, ingest one with :func:`ingest_jetstream` or
    :func:`ingest_oasis`, or build one from DataFrames with
    :meth:`Population.from_frames`. Its tables come back as DataFrames
    (``pop.agents``, ``pop.follows``, ...), with the columns of the
    population format (docs/population.md).

    >>> pop = aumann.generate(agents=1000, days=7, seed=1)
    >>> pop.n_agents, pop.n_steps
    (1000, 7)
    >>> pop.follows.head()          # doctest: +SKIP
    """

    __slots__ = ("_native",)

    def __init__(self, native: "_native.Population") -> None:
        self._native = native

    @classmethod
    def read(cls, path: PathLike, *, progress: bool = True) -> "Population":
        """Reads a population directory (``aumann synth``, ``aumann ingest``,
        :meth:`write`)."""
        from ._progress import sink

        return cls(_native.Population.read(os.fspath(path), sink(progress)))

    def write(self, path: PathLike) -> None:
        """Writes the population as a directory of Parquet tables and
        metadata.json, whole or not at all; the command line reads it."""
        self._native.write(os.fspath(path))

    @classmethod
    def from_frames(
        cls,
        agents: pd.DataFrame,
        follows: Optional[pd.DataFrame] = None,
        activity: Optional[pd.DataFrame] = None,
        engagements: Optional[pd.DataFrame] = None,
        orders: Optional[pd.DataFrame] = None,
        exposures: Optional[pd.DataFrame] = None,
        reposts: Optional[pd.DataFrame] = None,
        *,
        steps: Optional[int] = None,
        step_seconds: int = 86400,
        source: str = "pandas",
    ) -> "Population":
        """A population from DataFrames with the population format's columns.

        ``agents`` needs one row per agent, in id order; its ``agent``
        column (0..N-1) may be left out, and so may ``external_id`` (the id
        as text), ``followers`` (counted from ``follows``) and ``stance``
        (0.5). Optional columns: ``group``, and ``stance_source`` with
        ``stance_confidence``. The other tables use agent ids:
        ``follows`` (follower, followee, and optionally step, end_step),
        ``activity`` (agent, step, amount), ``engagements`` (engager,
        author, step, amount), ``orders`` (agent, step, flow),
        ``exposures`` (reader, author, step, amount, optionally posted),
        ``reposts`` (reposter, step, parent_author, parent_step, amount).
        A table left out is empty. ``steps`` defaults to one past the
        largest step in any table.

        Every table is checked as a directory's files are: an unknown id,
        a step past ``steps``, a NaN or negative amount raises
        :class:`InvalidInputError` naming the table, row and rule.

        >>> agents = pd.DataFrame({"external_id": ["a", "b", "c"]})
        >>> follows = pd.DataFrame({"follower": [0, 1], "followee": [2, 2]})
        >>> activity = pd.DataFrame({"agent": [2, 2], "step": [0, 1], "amount": [1.0, 3.0]})
        >>> pop = aumann.Population.from_frames(agents, follows, activity)
        >>> pop.agents.followers.tolist()
        [0.0, 0.0, 2.0]
        """
        frames: Dict[str, Optional[pd.DataFrame]] = {
            "follows": follows,
            "activity": activity,
            "engagements": engagements,
            "orders": orders,
            "exposures": exposures,
            "reposts": reposts,
        }
        for name, empty in _EMPTY.items():
            if frames[name] is None:
                frames[name] = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in empty.items()})
        if not isinstance(agents, pd.DataFrame):
            raise TypeError(f"the agents table must be a pandas DataFrame, got {type(agents).__name__}")
        n = len(agents)
        agents = agents.copy()
        if "agent" not in agents.columns:
            agents.insert(0, "agent", np.arange(n, dtype=np.uint32))
        if "external_id" not in agents.columns:
            agents["external_id"] = agents["agent"].astype(str)
        if "followers" not in agents.columns:
            agents["followers"] = _follower_counts(frames["follows"], n)
        if "stance" not in agents.columns:
            agents["stance"] = np.full(n, 0.5)
        if steps is None:
            steps = 1
            for name, columns in _STEP_COLUMNS.items():
                frame = frames[name]
                if frame is None:
                    continue
                for c in columns:
                    if c in frame.columns and len(frame) and frame[c].notna().any():
                        steps = max(steps, int(np.nanmax(np.asarray(frame[c], dtype=np.float64))) + 1)
        tables = [("agents.parquet", to_batch("agents", agents))]
        for name, frame in frames.items():
            if frame is not None:
                tables.append((f"{name}.parquet", to_batch(name, frame)))
        return cls(_native.Population.from_tables(n, int(steps), int(step_seconds), source, tables))

    @property
    def n_agents(self) -> int:
        """N, the number of agents."""
        return self._native.agents

    @property
    def n_steps(self) -> int:
        """T, the number of steps."""
        return self._native.steps

    def __len__(self) -> int:
        return self._native.agents

    @property
    def metadata(self) -> Dict[str, Any]:
        """metadata.json's content: source, sizes, settings, stance estimate."""
        return json.loads(self._native.metadata_json())

    @property
    def content_id(self) -> str:
        """A hash of everything the population holds but its creation time."""
        return self._native.content_id()

    def frames(self) -> Dict[str, pd.DataFrame]:
        """Every table, as DataFrames by name (the optional tables only when
        they have rows)."""
        return {name[: -len(".parquet")]: to_frame(t) for name, t in self._native.tables()}

    def table(self, name: str) -> pd.DataFrame:
        """One table as a DataFrame: agents, follows, activity, engagements,
        orders, exposures or reposts (an optional table with no rows comes
        back empty)."""
        if name not in TABLES:
            from ._errors import InvalidInputError

            raise InvalidInputError(f"unknown table {name!r}; choose one of {', '.join(TABLES)}")
        table = self._native.table(f"{name}.parquet")
        return pd.DataFrame() if table is None else to_frame(table)

    agents = property(lambda self: self.table("agents"), doc="The agents table (agent, external_id, followers, stance, ...).")
    follows = property(lambda self: self.table("follows"), doc="Who follows whom (follower, followee[, step, end_step]).")
    activity = property(lambda self: self.table("activity"), doc="Posts per agent and step (agent, step, amount).")
    engagements = property(lambda self: self.table("engagements"), doc="Likes and reposts (engager, author, step, amount).")
    orders = property(lambda self: self.table("orders"), doc="Market orders (agent, step, flow).")
    exposures = property(lambda self: self.table("exposures"), doc="Who was shown whose items (reader, author, step, amount[, posted]).")
    reposts = property(lambda self: self.table("reposts"), doc="Reposts with their parents (reposter, step, parent_author, parent_step, amount).")

    def estimate_stance(
        self,
        method: str = "follows",
        file: Optional[PathLike] = None,
        *,
        elites: int = 10_000,
        min_elites: int = 3,
        slope: float = 1.0,
    ) -> Tuple["Population", Dict[str, Any]]:
        """Every agent's stance estimated from the data (``aumann stance``):
        ``follows`` or ``engagements`` (correspondence analysis), ``seeds``
        (propagation from labelled accounts in ``file``), ``csv`` (stances
        from ``file``), ``lexicon`` (term hits counted at ingest). Returns a
        new population and the diagnostics (docs/stance.md)."""
        from ._errors import whole

        native, diagnostics = self._native.estimate_stance(
            method,
            None if file is None else os.fspath(file),
            whole("elites", elites),
            whole("min_elites", min_elites),
            slope,
        )
        return Population(native), json.loads(diagnostics)

    def __repr__(self) -> str:
        meta = self.metadata
        return f"<aumann.Population: {self.n_agents} agents, {self.n_steps} steps, source {meta['source']!r}>"


def read_population(path: PathLike, *, progress: bool = True) -> Population:
    """Reads a population directory; see :meth:`Population.read`."""
    return Population.read(path, progress=progress)


def generate(
    agents: int = _native.DEFAULTS["agents"],
    days: int = _native.DEFAULTS["days"],
    seed: int = _native.DEFAULTS["seed"],
    *,
    feed: int = 0,
    progress: bool = True,
) -> Population:
    """The built-in Bluesky-like population (``aumann synth``): ``agents``
    agents over ``days`` daily steps, two stance communities, heavy-tailed
    follower counts; ``feed`` recommended items per agent and step written
    as exposures. The same seed gives the same population.

    >>> pop = aumann.generate(agents=2000, days=7, seed=1)
    """
    from ._errors import whole
    from ._progress import sink

    return Population(
        _native.Population.generate(
            whole("agents", agents), whole("days", days), whole("seed", seed), whole("feed", feed), sink(progress)
        )
    )


def ingest_jetstream(
    files: Union[PathLike, Sequence[PathLike]],
    *,
    days: int = 14,
    start: Optional[Union[str, _dt.date]] = None,
    step_hours: int = 24,
    follows: Optional[PathLike] = None,
    stances: Optional[PathLike] = None,
    strict: bool = False,
    implied_exposures: bool = True,
    lexicon: Optional[PathLike] = None,
) -> Tuple[Population, Dict[str, Any]]:
    """Bluesky Jetstream archives (JSON lines, plain, .gz or .zst) as a
    population, as ``aumann ingest jetstream`` reads them. ``start`` is the
    window's first day (a date or "YYYY-MM-DD", UTC; default: the last
    ``days`` days in the input). Returns the population and the ingest
    report (lines used and skipped, by kind)."""
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    start_us = None
    if start is not None:
        if isinstance(start, str):
            try:
                start = _dt.date.fromisoformat(start)
            except ValueError as e:
                from ._errors import InvalidInputError

                raise InvalidInputError(f"start takes a date as YYYY-MM-DD, got {start!r}") from e
        midnight = _dt.datetime(start.year, start.month, start.day, tzinfo=_dt.timezone.utc)
        start_us = int(midnight.timestamp()) * 1_000_000
    from ._errors import whole

    native, report = _native.Population.ingest_jetstream(
        [os.fspath(f) for f in files],
        whole("days", days),
        start_us,
        whole("step_hours", step_hours, 1) * 3600,
        None if follows is None else os.fspath(follows),
        None if stances is None else os.fspath(stances),
        strict,
        implied_exposures,
        None if lexicon is None else os.fspath(lexicon),
    )
    return Population(native), json.loads(report)


def ingest_twitter_trees(
    *dirs: PathLike, step_minutes: float = 60.0, window_minutes: float = 7 * 24 * 60.0
) -> Tuple[Population, Dict[str, Any]]:
    """The Twitter15/16 propagation trees (each directory with tree/ and
    label.txt) as one population, as ``aumann ingest twitter-trees`` reads
    them: each (tree, user) an agent grouped by the tree's label, each
    retweet a repost of its parent and an exposure to it, steps of
    ``step_minutes`` up to ``window_minutes`` after each source. Returns the
    population and the ingest report (what was used, and every line left
    out, by reason)."""
    native, report = _native.Population.ingest_twitter_trees(
        [os.fspath(d) for d in dirs], float(step_minutes), float(window_minutes)
    )
    return Population(native), json.loads(report)


def ingest_oasis(
    db: PathLike, *, step_seconds: int = 3600, lexicon: Optional[PathLike] = None
) -> Tuple[Population, Dict[str, Any]]:
    """An OASIS simulation database (SQLite) as a population, as ``aumann
    ingest oasis`` reads it: follows, posts, likes, reposts and quotes,
    and who was shown what (refresh traces). Returns the population and
    the ingest report."""
    from ._errors import whole

    native, report = _native.Population.ingest_oasis(
        os.fspath(db), whole("step_seconds", step_seconds, 1), None if lexicon is None else os.fspath(lexicon)
    )
    return Population(native), json.loads(report)
