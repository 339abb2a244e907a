"""Answer bodies: the service's result checked against the spec, then written as JSON; a big
one in a worker thread, a piece at a time, so that one 2,048 x 3,072 answer does not hold up
every other request on the event loop.

Why a thread and pieces: checking and encoding millions of floats takes seconds of CPU. On
the event loop, every other request waits that long. In a thread, the event loop's thread
gets the interpreter back at the first switch point (every few milliseconds), but only
between calls into C: the standard library's encoder writes a whole value in one call. So a
big answer is written a vector at a time, each a short call.

orjson, when installed, writes the vectors (lists of plain numbers), several times faster
than the standard library; everything else, and every vector when it is not installed, goes
through the standard library. NaN and infinities are refused either way (orjson would write
them as null): a vector whose sum is not finite is left to the standard library, which
raises. Standard library only, orjson optional.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import math
import typing as _t

from . import _runtime as _rt

#: Values (numbers, strings) in an answer above which it is checked and written in a worker
#: thread, in pieces; below, on the event loop in one go (a thread costs more than that).
BIG_ANSWER_VALUES = 50_000
#: The size of each body message of a big answer, in bytes.
CHUNK_BYTES = 1 << 20

#: Compact JSON, non-ASCII escaped (so that any string, even a lone surrogate, is safe), NaN
#: and infinities refused.
_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))
_NUMBERS = frozenset((int, float))


def _import_orjson() -> _t.Any:
    try:
        return importlib.import_module("orjson")
    except ImportError:
        return None


_orjson = _import_orjson()


def json_bytes(payload: _t.Any) -> bytes:
    """`payload` as compact JSON, in one piece."""
    return _ENCODER.encode(payload).encode("ascii")


def weight(value: _t.Any, budget: int = BIG_ANSWER_VALUES) -> int:
    """About how many values `value` (a model or plain JSON data) holds, counting a list's
    length times its first item's weight; stops counting beyond `budget`."""
    if isinstance(value, _rt.Model):
        total = 0
        for f in value._fields:
            total += weight(getattr(value, f.attr), budget)
            if total > budget:
                break
        return total
    if isinstance(value, (list, tuple)):
        if not value:
            return 1
        return len(value) * weight(value[0], budget)
    if isinstance(value, dict):
        total = 0
        for item in value.values():
            total += weight(item, budget)
            if total > budget:
                break
        return total
    return 1


def _vector(values: list[_t.Any]) -> bytes | None:
    """A list of plain numbers by orjson, or None (not installed, or not all finite)."""
    if _orjson is None:
        return None
    try:
        if not math.isfinite(sum(values, 0.0)):
            return None
    except OverflowError:  # a huge int: the standard library writes it
        return None
    return bytes(_orjson.dumps(values))


def _pieces(value: _t.Any, out: list[bytes]) -> None:
    """Append `value`'s JSON to `out` in pieces: a vector or a small value each in one call."""
    if type(value) is dict:
        out.append(b"{")
        for index, (key, item) in enumerate(value.items()):
            out.append((b"," if index else b"") + json_bytes(str(key)) + b":")
            _pieces(item, out)
        out.append(b"}")
    elif type(value) is list:
        if value and _NUMBERS.issuperset(map(type, value)):
            out.append(_vector(value) or json_bytes(value))
            return
        out.append(b"[")
        for index, item in enumerate(value):
            if index:
                out.append(b",")
            _pieces(item, out)
        out.append(b"]")
    else:
        out.append(json_bytes(value))


def _chunks(pieces: list[bytes], size: int) -> list[bytes]:
    """The pieces joined into body messages of about `size` bytes."""
    chunks: list[bytes] = []
    batch: list[bytes] = []
    length = 0
    for piece in pieces:
        batch.append(piece)
        length += len(piece)
        if length >= size:
            chunks.append(b"".join(batch))
            batch, length = [], 0
    if batch or not chunks:
        chunks.append(b"".join(batch))
    return chunks


def _check(model: type[_rt.Model] | None, payload: _t.Any) -> None:
    """Raise InvalidResult if `payload` does not fit the result's schema."""
    if model is None:
        return
    try:
        model.validate(payload, max_errors=10)
    except _rt.ValidationError as exc:
        raise InvalidResult(exc) from None


class InvalidResult(Exception):
    """A service's result that its schema refuses: answered as a 500, logged with the paths."""

    def __init__(self, error: _rt.ValidationError) -> None:
        shown = "; ".join(str(e)[:300] for e in error.errors[:10])
        super().__init__(f"the result does not fit its schema: {shown}")
        self.error = error


def _write(result: _t.Any, model: type[_rt.Model] | None, check: bool, big: bool) -> list[bytes]:
    payload = _rt.encode(result)
    if check:
        _check(model, payload)
    if not big:
        return [json_bytes(payload)]
    pieces: list[bytes] = []
    _pieces(payload, pieces)
    return _chunks(pieces, CHUNK_BYTES)


async def write_answer(
    result: _t.Any, model: type[_rt.Model] | None, *, check: bool = True
) -> list[bytes]:
    """The JSON body of a success answer, as body messages: checked against `model` first
    (when `check`; InvalidResult if it does not fit); a big answer in a worker thread."""
    big = weight(result) > BIG_ANSWER_VALUES
    if not big:
        return _write(result, model, check, False)
    return await asyncio.to_thread(_write, result, model, check, True)
