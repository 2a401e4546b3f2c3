"""The exceptions the package raises.

Every error is an :class:`Error`; where a standard type fits, the error is
one of those too, so ``except ValueError`` and ``except FileNotFoundError``
catch what they should.
"""

from __future__ import annotations

import numbers
from typing import Any, Optional


class Error(Exception):
    """Anything aumann refuses or cannot do."""


class InvalidInputError(Error, ValueError):
    """A setting, a table or a value the work cannot take (the message
    names the setting, table, row or rule)."""


class InvalidTypeError(Error, TypeError):
    """A table's column of a type the population format does not take."""


class NotFoundError(Error, FileNotFoundError):
    """A file or a population directory that is not there."""


class OutputError(Error, OSError):
    """The outputs could not be written (they are then absent, never half
    written)."""


class ConvergenceWarning(UserWarning):
    """The adaptive rule reached its node limit before the completeness
    gap fell under the tolerance; the best result is returned with its gap."""


# The native calls take counts, sizes and seeds as 64-bit unsigned
# integers; a negative or fractional one would surface as an OverflowError
# or a bare TypeError naming no argument.
_LARGEST = 2**64 - 1


def whole(name: str, value: Any, minimum: int = 0) -> int:
    """``value`` as a whole number of at least ``minimum`` (and at most
    2^64 - 1): a TypeError naming the argument when it is not a whole
    number, the package's InvalidInputError when it is out of range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum}, got {value}")
    if value > _LARGEST:
        raise InvalidInputError(f"{name} must be at most {_LARGEST}, got {value}")
    return int(value)


def whole_or_none(name: str, value: Any, minimum: int = 0) -> Optional[int]:
    """As :func:`whole`, with None passed through."""
    return None if value is None else whole(name, value, minimum)
