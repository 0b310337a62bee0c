"""Datetimes as integer unix seconds: the one conversion behind every timestamp graphrec reads.

The store keeps edge times as ``int64`` seconds since 1970-01-01 UTC. Datetimes arrive from
files (:func:`graphrec.data.loaders.load_edge_table`), from DataFrames and Arrow tables
(:func:`graphrec.data.frames.graph_from_frame`) and as arrays given to
:meth:`graphrec.graph.Graph.add_edges` (numpy ``datetime64``, pandas datetime columns,
``datetime`` objects); all of them pass through :func:`arrow_unix_seconds`, so one datetime
gives one number whichever way it came in:

* a time-zone-aware datetime is its UTC instant; a naive one is read as UTC;
* sub-second parts are rounded down (floor), so ``1969-12-31T23:59:59.5`` is ``-1``;
* a date (no time of day) is its midnight, UTC;
* ISO-8601 strings (``2024-01-02`` or ``2024-01-02T10:00:00``, whole seconds) are parsed;
* a missing value (``NaT``, ``None``, null) raises ``ValueError`` naming its position.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

__all__ = ["arrow_unix_seconds", "datetimes_to_unix_seconds"]

_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def arrow_unix_seconds(arr: Any, what: str = "timestamps") -> np.ndarray:
    """Int64 unix seconds of a pyarrow array of timestamps, dates or ISO-8601 strings.

    Parameters
    ----------
    arr : pyarrow.Array or ChunkedArray, shape ``(m,)``
        ``timestamp[unit, tz]`` (any unit, naive read as UTC), ``date32``/``date64``, or
        strings.
    what : str
        Names the values in error messages.

    Returns
    -------
    ndarray of int64, shape ``(m,)``
        Seconds since 1970-01-01 UTC, rounded down.

    Raises
    ------
    ValueError
        A null value (its position named) or a string that is not an ISO-8601 datetime.
    TypeError
        Any other Arrow type.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        k = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        raise ValueError(f"{what}: missing value at position {k}")
    try:
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_date(arr.type):
            arr = pc.cast(arr, pa.timestamp("s"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise ValueError(f"{what} must hold integer times or timestamps ({e})") from None
    if not pa.types.is_timestamp(arr.type):
        raise TypeError(f"{what} must hold integer times or timestamps, got type {arr.type}")
    ticks = pc.cast(arr.cast(pa.timestamp(arr.type.unit)), pa.int64()).to_numpy(zero_copy_only=False)
    return np.floor_divide(ticks, _PER_SECOND[arr.type.unit]).astype(np.int64)


def datetimes_to_unix_seconds(values: Any, what: str = "timestamps") -> np.ndarray | None:
    """``values`` as int64 unix seconds when they are datetimes, else ``None``.

    Datetimes are numpy ``datetime64`` arrays, pandas datetime columns (time-zone aware or
    not), pyarrow timestamp/date arrays, and sequences of ``datetime``/``date`` objects;
    they are converted by :func:`arrow_unix_seconds`. Anything else (numbers, tensors) gives
    ``None`` and is left to the caller.
    """
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        is_time = pa.types.is_timestamp(values.type) or pa.types.is_date(values.type)
        return arrow_unix_seconds(values, what) if is_time else None
    dtype = getattr(values, "dtype", None)
    kind = getattr(dtype, "kind", None)
    if kind == "M":  # numpy datetime64, pandas datetime (tz or not)
        arr = values
        if isinstance(arr, np.ndarray) and np.datetime_data(arr.dtype)[0] not in (*_PER_SECOND, "D"):
            arr = arr.astype("datetime64[s]")  # minutes, hours, weeks...: exact in seconds; Arrow lacks them
    elif kind == "O" or (dtype is None and isinstance(values, (list, tuple))):  # datetime objects?
        if isinstance(values, (list, tuple)) and not (values and isinstance(values[0], (_dt.date, np.datetime64))):
            return None  # decided on the first value, before copying a long list of numbers
        arr = np.asarray(values, dtype=object).reshape(-1)
        if not (arr.size and isinstance(arr[0], (_dt.date, np.datetime64))):
            return None
    else:
        return None
    if isinstance(arr, np.ndarray) and arr.ndim != 1:
        arr = arr.reshape(-1)
    try:
        converted = pa.array(arr, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
        raise TypeError(f"{what}: cannot read these values as datetimes ({e})") from None
    return arrow_unix_seconds(converted, what)
