"""summary.json as the package reads it: the schema it was written with,
and every field the package reads, declared in one place.

The command line and the package write summary.json from the same Rust
structs; this module is the package's side of that contract. A field is
read only through :func:`field`, which takes only the paths declared here,
so the package's tests (which read every path declared against a summary
the command line writes) fail when a field the package uses disappears.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

from . import _native
from ._errors import Error

#: The schema version this package reads; summary.json carries its own.
SCHEMA: int = _native.SUMMARY_SCHEMA

Path = Tuple[str, ...]

#: Fields of the whole summary.
TOP: Tuple[Path, ...] = (("schema",), ("population",), ("indicators",))

#: Fields of the population's entry (summary["population"]).
POPULATION: Tuple[Path, ...] = (("replay_seconds",),)

#: Fields of an indicator's entry (summary["indicators"][i]).
INDICATOR: Tuple[Path, ...] = (
    ("indicator", "name"),
    ("full", "value_input"),
    ("full", "value_baseline"),
    ("full", "gap"),
    ("full", "relative_gap"),
    ("full", "converged"),
    ("full", "flat_cause"),
    ("full", "rule"),
    ("full", "nodes"),
    ("full", "gradient_evaluations"),
    ("full", "seconds"),
    ("tiers",),
)

#: Fields of an indicator's entry written only when asked for (the curves
#: with ``curves=True``); read where present.
INDICATOR_WHEN_ASKED: Tuple[Path, ...] = (
    ("curves", "seconds"),
    ("sensitivity", "extent"),
    ("sensitivity", "alternatives"),
    ("sensitivity", "ranges"),
    ("sensitivity", "conclusions"),
    ("sensitivity", "robust"),
    ("sensitivity", "cost_in_attributions"),
    ("sensitivity", "seconds"),
)

DECLARED = frozenset(TOP + POPULATION + INDICATOR + INDICATOR_WHEN_ASKED)


class SummaryError(Error, RuntimeError):
    """summary.json lacks a field the package reads, or was written with
    another schema: the package and the binary that wrote it differ."""


def check(summary: Dict[str, Any]) -> None:
    """Refuses a summary of another schema, naming both."""
    written = summary.get("schema")
    if written != SCHEMA:
        raise SummaryError(
            f"summary.json has schema {written}, this package reads schema {SCHEMA}: "
            "use the aumann binary and package of one release"
        )


def field(entry: Dict[str, Any], *path: str) -> Any:
    """The value at ``path`` of ``entry`` (a summary, its population's or
    one indicator's entry). Only declared paths are read."""
    if path not in DECLARED:
        raise KeyError(f"{'.'.join(path)} is not a declared summary field (aumann/_summary.py)")
    value: Any = entry
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise SummaryError(f"summary.json has no {'.'.join(path)} (schema {SCHEMA}): the binary and package differ")
        value = value[key]
    return value
