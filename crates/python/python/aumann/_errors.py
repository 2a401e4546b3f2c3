"""The exceptions the package raises.

Every error is an :class:`Error`; where a standard type fits, the error is
one of those too, so ``except ValueError`` and ``except FileNotFoundError``
catch what they should.
"""

from __future__ import annotations


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
