"""Tables between pandas and the engine, through Arrow."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from ._errors import InvalidInputError


def to_frame(table: Any) -> pd.DataFrame:
    """A DataFrame from an object exporting an Arrow record batch."""
    return pa.record_batch(table).to_pandas()


def to_batch(name: str, frame: pd.DataFrame) -> pa.RecordBatch:
    """An Arrow record batch of a DataFrame (its index left out)."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"the {name} table must be a pandas DataFrame, got {type(frame).__name__}")
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except pa.ArrowTypeError as e:
        raise TypeError(f"the {name} table: {e}") from e
    except pa.ArrowException as e:
        raise InvalidInputError(f"the {name} table: {e}") from e
    batches = table.combine_chunks().to_batches()
    if not batches:
        return pa.RecordBatch.from_pylist([], schema=table.schema)
    return batches[0]
