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
import time
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
_PLAIN = frozenset((str, int, float, bool, type(None), _rt.NotGiven))


def _import_orjson() -> _t.Any:
    try:
        return importlib.import_module("orjson")
    except ImportError:
        return None


_orjson = _import_orjson()


def json_bytes(payload: _t.Any) -> bytes:
    """`payload` as compact JSON, in one piece."""
    return _ENCODER.encode(payload).encode("ascii")


def _small_json(payload: _t.Any) -> bytes:
    """A small answer's JSON: by orjson when installed (several times faster), unless it
    refuses the value (a lone surrogate, an integer past 64 bits) or writes a null, which may
    be a NaN or an infinity it wrote as null: the standard library, which refuses those, then
    writes it."""
    if _orjson is not None:
        try:
            data = bytes(_orjson.dumps(payload))
        except TypeError:
            return json_bytes(payload)
        if b"null" not in data:
            return data
    return json_bytes(payload)


def weight(value: _t.Any, budget: int = BIG_ANSWER_VALUES) -> int:
    """About how many values `value` (a model or plain JSON data) holds, counting a list's
    length times its first item's weight; stops counting beyond `budget`."""
    kind = type(value)
    if kind in _PLAIN:
        return 1
    if isinstance(value, _rt.Model):
        total = 0
        for f in value._fields:
            item = getattr(value, f.attr)
            total += 1 if type(item) in _PLAIN else weight(item, budget)
            if total > budget:
                break
        return total
    if kind is list or kind is tuple or isinstance(value, (list, tuple)):
        if not value:
            return 1
        first = value[0]
        return len(value) * (1 if type(first) in _PLAIN else weight(first, budget))
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


class _Chunks:
    """JSON written into body messages of about `size` bytes (a big answer's)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.done: list[bytes] = []
        self._buffer = bytearray()

    def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= self.size:
            self.done.append(bytes(self._buffer))
            self._buffer.clear()

    def close(self) -> list[bytes]:
        if self._buffer or not self.done:
            self.done.append(bytes(self._buffer))
        return self.done


def _pieces(value: _t.Any, out: _Chunks) -> None:
    """Write `value`'s JSON to `out` in pieces: a vector or a small value each in one call."""
    if type(value) is dict:
        out.write(b"{")
        for index, (key, item) in enumerate(value.items()):
            out.write((b"," if index else b"") + json_bytes(str(key)) + b":")
            _pieces(item, out)
        out.write(b"}")
    elif isinstance(value, list):
        if value and _NUMBERS.issuperset(map(type, value)):
            out.write(_vector(value) or json_bytes(value))
            return
        out.write(b"[")
        for index, item in enumerate(value):
            if index:
                out.write(b",")
                # Hand the interpreter to the event loop's thread now rather than at the
                # next forced switch (milliseconds away, each time the loop needs it).
                time.sleep(0)
            _pieces(item, out)
        out.write(b"]")
    else:
        out.write(json_bytes(value))


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


class _Yielding(list[_t.Any]):
    """A list whose iteration hands the interpreter to other threads every few items: the
    checks walk a big answer's items through it (Model.validate iterates lists)."""

    def __iter__(self) -> _t.Iterator[_t.Any]:
        for index, item in enumerate(list.__iter__(self)):
            if index % 8 == 7:
                time.sleep(0)
            yield item


def _plain(result: _t.Any) -> _t.Any:
    """`_rt.encode(result)` (Model.to_dict), but a long list of models an item at a time,
    yielding between items, and kept as a _Yielding list for the check."""
    if not isinstance(result, _rt.Model):
        return _rt.encode(result)
    out: dict[str, _t.Any] = {}
    for f in result._fields:
        value = getattr(result, f.attr)
        if value is _rt.NOT_GIVEN:
            continue
        if isinstance(value, list) and len(value) > 8 and isinstance(value[0], _rt.Model):
            out[f.wire] = _Yielding(_rt.encode(item) for item in _Yielding(value))
        else:
            out[f.wire] = _rt.encode(value)
    for key, value in result.additional_properties.items():
        if key not in out:
            out[key] = _rt.encode(value)
    return out


def _write(result: _t.Any, model: type[_rt.Model] | None, check: bool, big: bool) -> list[bytes]:
    payload = _plain(result) if big else _rt.encode(result)
    if check:
        _check(model, payload)
    if not big:
        return [_small_json(payload)]
    chunks = _Chunks(CHUNK_BYTES)
    _pieces(payload, chunks)
    return chunks.close()


async def write_answer(
    result: _t.Any, model: type[_rt.Model] | None, *, check: bool = True
) -> list[bytes]:
    """The JSON body of a success answer, as body messages: checked against `model` first
    (when `check`; InvalidResult if it does not fit); a big answer in a worker thread."""
    big = weight(result) > BIG_ANSWER_VALUES
    if not big:
        return _write(result, model, check, False)
    return await asyncio.to_thread(_write, result, model, check, True)
