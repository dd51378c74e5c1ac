"""Turn what callers hand us (lists, NumPy arrays, pandas or Polars objects) into float arrays.

Every conversion error is a ``ValueError`` that names the argument, the position or column, and the
value, so that a page or an analyst sees what is wrong instead of a NaN further down.
pandas and Polars are never imported here: objects are recognised by their type's module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "as_vector",
    "as_matrix",
    "as_columns",
    "check_confidence",
    "drop_missing",
]


def _module(obj: Any) -> str:
    return type(obj).__module__.split(".", 1)[0]


def _series_to_numpy(obj: Any) -> np.ndarray:
    """A pandas or Polars Series (or anything with ``to_numpy``) as a float array, nulls as NaN."""
    mod = _module(obj)
    if mod == "pandas":
        try:
            return obj.to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"expected numbers, got a column of dtype {obj.dtype}") from exc
    if mod == "polars":
        if not obj.dtype.is_numeric() and str(obj.dtype) != "Boolean":
            raise ValueError(f"expected numbers, got a column of dtype {obj.dtype}")
        return obj.cast(float).to_numpy()
    return np.asarray(obj.to_numpy())


def _position(index: tuple[int, ...]) -> Any:
    return index[0] if len(index) == 1 else index


def _to_float(arr: Any, name: str) -> np.ndarray:
    """Convert to float64 (None/NA become NaN), naming the first value that is not a number."""
    try:
        raw = np.asarray(arr)
    except ValueError:
        raise ValueError(f"{name}: expected a rectangular array of numbers") from None
    kind = raw.dtype.kind
    if kind in "fiub":
        return raw.astype(np.float64, copy=False)
    if kind in "US" and not isinstance(arr, np.ndarray):
        # A list mixing numbers and text: look at the original items to name the culprit.
        raw = np.empty(raw.shape, dtype=object)
        raw[...] = arr if raw.ndim else [arr]
        kind = "O"
    if kind in "US":
        index = next(iter(np.ndindex(raw.shape)), (0,))
        value = raw[index] if raw.size else ""
        raise ValueError(
            f"{name}: expected numbers, got text such as {str(value)!r} at position "
            f"{_position(index)}"
        )
    if kind != "O":
        raise ValueError(f"{name}: expected numbers, got an array of dtype {raw.dtype}")
    out = np.empty(raw.shape, dtype=np.float64)
    for index, value in np.ndenumerate(raw):
        if value is None or (_module(value) == "pandas" and str(value) == "<NA>"):
            out[index] = np.nan
        elif isinstance(value, str | bytes):
            raise ValueError(
                f"{name}: expected a number at position {_position(index)}, got {value!r}"
            )
        else:
            try:
                out[index] = float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name}: expected a number at position {_position(index)}, got {value!r}"
                ) from None
    return out


def as_vector(values: Any, *, name: str = "values") -> np.ndarray:
    """A 1-D float64 array from a list, tuple, NumPy array, pandas or Polars Series.

    Missing values (``None``, ``NaN``, pandas ``NA``, Polars null) become ``NaN``; it is for the
    caller to drop or reject them.
    """
    if values is None:
        raise ValueError(f"{name}: expected a sequence of numbers, got None")
    if hasattr(values, "to_numpy") and _module(values) in ("pandas", "polars"):
        if hasattr(values, "columns"):
            raise ValueError(f"{name}: expected one column, got a table")
        try:
            arr = _series_to_numpy(values)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    elif isinstance(values, str | bytes):
        raise ValueError(f"{name}: expected a sequence of numbers, got a string")
    else:
        arr = values
    out = _to_float(arr, name)
    if out.ndim == 0:
        raise ValueError(f"{name}: expected a sequence of numbers, got a single value")
    if out.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence, got an array of shape {out.shape}")
    return out


def as_matrix(matrix: Any, *, name: str = "matrix") -> np.ndarray:
    """A 2-D float64 array from a NumPy array, a nested list, or a pandas/Polars DataFrame."""
    mod = _module(matrix)
    if mod == "pandas" and hasattr(matrix, "columns"):
        cols = [as_vector(matrix[c], name=f"{name}[{c!r}]") for c in matrix.columns]
        return np.column_stack(cols) if cols else np.empty((len(matrix), 0))
    if mod == "polars" and hasattr(matrix, "columns"):
        cols = [as_vector(matrix[c], name=f"{name}[{c!r}]") for c in matrix.columns]
        return np.column_stack(cols) if cols else np.empty((matrix.height, 0))
    out = _to_float(matrix, name)
    if out.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array, got shape {out.shape}")
    return out


def as_columns(frame: Any, columns: Sequence[Any], *, name: str = "frame") -> np.ndarray:
    """Pick ``columns`` from a table as an ``(n, len(columns))`` float64 array.

    ``frame`` may be a pandas or Polars DataFrame, a mapping of column name to 1-D values, or a 2-D
    NumPy array (then the columns are integer positions).
    """
    if len(columns) == 0:
        raise ValueError("no columns were given")
    mod = _module(frame)
    if mod in ("pandas", "polars") and hasattr(frame, "columns"):
        available = list(frame.columns)
        missing = [c for c in columns if c not in available]
        if missing:
            raise ValueError(f"{name} has no column(s) {missing}; it has {available}")
        cols = [as_vector(frame[c], name=f"column {c!r}") for c in columns]
    elif isinstance(frame, Mapping):
        missing = [c for c in columns if c not in frame]
        if missing:
            raise ValueError(f"{name} has no column(s) {missing}; it has {list(frame)}")
        cols = [as_vector(frame[c], name=f"column {c!r}") for c in columns]
        lengths = {len(c) for c in cols}
        if len(lengths) > 1:
            raise ValueError(f"{name}: columns have different lengths {sorted(lengths)}")
    else:
        arr = as_matrix(frame, name=name)
        k = arr.shape[1]
        bad = [c for c in columns if not isinstance(c, int | np.integer) or not -k <= c < k]
        if bad:
            raise ValueError(
                f"{name} is a 2-D array with {k} columns; pick columns by integer position, "
                f"got {bad}"
            )
        return arr[:, list(columns)]
    return np.column_stack(cols)


def drop_missing(values: np.ndarray) -> np.ndarray:
    """``values`` without NaN."""
    return values[~np.isnan(values)]


def check_confidence(confidence: float) -> float:
    """Validate a confidence level in (0, 1)."""
    try:
        c = float(confidence)
    except (TypeError, ValueError):
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}") from None
    if not 0.0 < c < 1.0:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")
    return c


def check_count(value: Any, name: str) -> float:
    """A non-negative finite count (whole numbers are expected but weights are allowed)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return v
