"""Parquet rows as JSON-object lines, as a Langfuse JSON export would carry them: timestamps
as ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC (``TIMESTAMP_FORMAT``, the Blob Storage Export Field
Reference's form), maps as objects, decimals as text, binary as UTF-8 (else base64).
Converted a column at a time where Arrow can, value by value where it cannot."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chatbatch.accumulate.lines import FileLines, empty_result

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def read_parquet(data: bytes) -> FileLines:
    """One JSON-object line per row; a damaged file keeps the rows read before the damage."""
    result = empty_result(data)
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        result.declared_rows = parquet.metadata.num_rows
        for batch in parquet.iter_batches():
            for record in _batch_records(batch):
                result.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
    except (pa.ArrowException, OSError, ValueError):
        # rows read before the damage are kept; the file is flagged
        result.file_error = "invalid_parquet"
    return result


def _batch_records(batch: pa.RecordBatch) -> Iterator[dict[str, Any]]:
    names = batch.schema.names
    columns = [_column_values(batch.column(i), field.type) for i, field in enumerate(batch.schema)]
    for row in zip(*columns, strict=True):
        yield dict(zip(names, row, strict=True))


def _column_values(column: pa.Array, type_: pa.DataType) -> list[Any]:
    """A column's values as the JSON export would carry them (``_jsonable``), converted a
    column at a time where Arrow can: plain values as they are, timestamps formatted by
    Arrow (in UTC, microseconds: ``TIMESTAMP_FORMAT``); nested and other values one by one."""
    if _is_json_ready(type_):
        return column.to_pylist()
    if pa.types.is_map(type_) and pa.types.is_string(type_.key_type) and _is_json_ready(type_.item_type):
        return [None if pairs is None else dict(pairs) for pairs in column.to_pylist()]
    if pa.types.is_timestamp(type_):
        utc = pc.cast(column, pa.timestamp("us", tz="UTC" if type_.tz else None), safe=False)
        # Arrow's %S carries the fraction of the unit: microseconds here, as %f
        return pc.strftime(utc, format=TIMESTAMP_FORMAT.replace(".%f", "")).to_pylist()
    return [_jsonable(value, type_) for value in column.to_pylist()]


def _is_json_ready(type_: pa.DataType) -> bool:
    """Values that Arrow gives as Python objects Python's JSON encoder writes as the JSON
    export does: plain values, and lists and structs of them."""
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return _is_json_ready(type_.value_type)
    if pa.types.is_struct(type_):
        return all(_is_json_ready(field.type) for field in type_)
    return _is_plain(type_)


def _is_plain(type_: pa.DataType) -> bool:
    """Scalar values Python's JSON encoder writes as the JSON export does."""
    return (
        pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_integer(type_)
        or pa.types.is_floating(type_)
        or pa.types.is_boolean(type_)
        or pa.types.is_null(type_)
    )


def _jsonable(value: Any, type_: pa.DataType) -> Any:
    """A Parquet value as the JSON export would carry it."""
    if value is None:
        return None
    if pa.types.is_map(type_):
        return {str(k): _jsonable(v, type_.item_type) for k, v in value}
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return [_jsonable(v, type_.value_type) for v in value]
    if pa.types.is_struct(type_):
        return {f.name: _jsonable(value.get(f.name), f.type) for f in type_}
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime(TIMESTAMP_FORMAT)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    return value
