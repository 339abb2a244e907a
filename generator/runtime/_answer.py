"""Answer bodies: the service's result checked against the spec while it is written as JSON;
a big one checked in a worker thread, then streamed, written a piece at a time in a worker
thread, so that one 2,048 x 3,072 answer does not hold up every other request on the event
loop, nor sit whole in memory.

Why a thread and pieces: checking and encoding millions of floats takes seconds of CPU. On
the event loop, every other request waits that long. In a thread, the event loop's thread
gets the interpreter back at the first switch point (every few milliseconds), but only
between calls into C: an encoder writes a whole value in one call (orjson never releases
the interpreter). So a big answer is written a vector at a time, each a short call, and the
thread hands the interpreter over between them.

orjson, when installed, writes the vectors (lists of plain numbers) and small answers; it
is this module's one speed shortcut (`_orjson`), kept because `make bench BENCH_ARGS="--only
helpers"` (medians, load 2.7 on 2 cores) writes the 256 x 1,024 float answer in 90 ms with
it against 244 ms with the standard library alone, and 16 x 1,024 floats in 0.9 ms against
6.1 ms.
Everything else, and every vector when it is not installed, goes through the standard
library. NaN and infinities are refused by the check (orjson would write them as null),
before the head is sent; unchecked, a vector whose sum is not finite is left to the
standard library, which raises. msgspec, when installed, checks a small answer in C first
(_fast.answer_json; orjson, when installed, then writes it); one that it does not take goes
the way above. Standard
library only, orjson and msgspec optional.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import time
import typing as _t

from . import _fast
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


_orjson = _fast._orjson


def json_bytes(payload: _t.Any) -> bytes:
    """`payload` as compact JSON, in one piece."""
    return _ENCODER.encode(payload).encode("ascii")


def _small_json(payload: _t.Any) -> bytes:
    """A small answer's JSON: by orjson when installed (see the module docstring), unless it
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


def _finite_json(payload: _t.Any) -> bytes:
    """_small_json for JSON data known to hold no NaN nor infinity: no null to look for."""
    if _orjson is not None:
        try:
            return bytes(_orjson.dumps(payload))
        except TypeError:  # a lone surrogate, an integer past 64 bits
            pass
    return json_bytes(payload)


def weight(value: _t.Any, budget: int = BIG_ANSWER_VALUES) -> int:
    """About how many values `value` (a model or plain JSON data) holds, counting a list's
    length times its first item's weight; stops counting beyond `budget`."""
    kind = type(value)
    if kind in _PLAIN:
        return 1
    if isinstance(value, _rt.Model):
        scalars, containers = _shape(type(value))
        total = scalars
        for attr in containers:
            item = getattr(value, attr)
            total += 1 if type(item) in _PLAIN else weight(item, budget)
            if total > budget:
                break
        if value.additional_properties:
            total += weight(value.additional_properties, budget)
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


_SHAPES: dict[type[_rt.Model], tuple[int, tuple[str, ...]]] = {}
_SCALAR_CODECS = (_rt.StringCodec, _rt.NumberCodec, _rt.BooleanCodec, _rt.NullCodec)


def _shape(model: type[_rt.Model]) -> tuple[int, tuple[str, ...]]:
    """How many of `model`'s fields hold one scalar value at most, and the attributes of the
    others (which may hold lists or models): worked out once per model."""
    shape = _SHAPES.get(model)
    if shape is None:
        scalars = [
            f
            for f in model._fields
            if type(f.codec) in _SCALAR_CODECS
            or isinstance(f.codec, (_rt.LiteralCodec, _rt.EnumCodec))
        ]
        shape = _SHAPES[model] = (
            len(scalars),
            tuple(f.attr for f in model._fields if f not in scalars),
        )
    return shape


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


def _pieces(value: _t.Any) -> _t.Iterator[bytes]:
    """`value`'s JSON in pieces: a vector or a small value each in one call; between the
    items of a list, the interpreter is handed to the other threads."""
    if type(value) is dict:
        yield b"{"
        for index, (key, item) in enumerate(value.items()):
            yield (b"," if index else b"") + json_bytes(str(key)) + b":"
            yield from _pieces(item)
        yield b"}"
    elif isinstance(value, list):
        if value and _NUMBERS.issuperset(map(type, value)):
            yield _vector(value) or json_bytes(value)
            return
        yield b"["
        for index, item in enumerate(value):
            if index:
                yield b","
                # Hand the interpreter to the event loop's thread now rather than at the
                # next forced switch (milliseconds away, each time the loop needs it).
                time.sleep(0)
            yield from _pieces(item)
        yield b"]"
    else:
        yield json_bytes(value)


class InvalidResult(Exception):
    """A service's result that its schema refuses: answered as a 500, logged with the paths."""

    def __init__(self, error: _rt.ValidationError) -> None:
        shown = "; ".join(str(e)[:300] for e in error.errors[:10])
        super().__init__(f"the result does not fit its schema: {shown}")
        self.error = error


class _Yielding(list[_t.Any]):
    """A list whose iteration hands the interpreter to other threads every few items: a big
    answer's long lists are walked through it (the check, the encoding)."""

    def __iter__(self) -> _t.Iterator[_t.Any]:
        for index, item in enumerate(list.__iter__(self)):
            if index % 8 == 7:
                time.sleep(0)
            yield item


def _paced(result: _rt.Model) -> _rt.Model:
    """A shallow copy of `result` whose long lists are _Yielding: walking it (checked_dict,
    to_dict) hands the interpreter over every few items."""
    paced = copy.copy(result)
    for f in result._fields:
        value = getattr(result, f.attr)
        if type(value) is list and len(value) > 8:
            object.__setattr__(paced, f.attr, _Yielding(value))
    return paced


def _payload(result: _t.Any, model: type[_rt.Model] | None, check: bool, big: bool) -> _t.Any:
    """The result as plain JSON data; checked against `model` in the same walk (when `check`:
    InvalidResult if it does not fit)."""
    if isinstance(result, _rt.Model):
        walked = _paced(result) if big else result
        if check and model is not None and isinstance(result, model):
            try:
                return walked.checked_dict(max_errors=10)
            except _rt.ValidationError as exc:
                raise InvalidResult(exc) from None
        # Unchecked, the same JSON: a result whose fields pass as they are is written by the
        # check's speed helper (to_dict() walks field by field), any other by to_dict().
        payload = None if big else _rt._fields_as_they_are(result)
        if payload is None:
            payload = walked.to_dict()
    else:
        payload = _rt.encode(result)
    if check and model is not None:
        try:
            model.validate(payload, max_errors=10)
        except _rt.ValidationError as exc:
            raise InvalidResult(exc) from None
    return payload


class Stream:
    """A big answer's body: its JSON written a body message (about CHUNK_BYTES) at a time, in
    a worker thread, as it is sent; the whole is never held. Its length is not known before
    the end: it goes without Content-Length (chunked)."""

    def __init__(self, payload: _t.Any) -> None:
        self._pieces = _pieces(payload)

    def _next(self) -> bytes:
        buffer = bytearray()
        for piece in self._pieces:
            buffer += piece
            if len(buffer) >= CHUNK_BYTES:
                break
        return bytes(buffer)

    async def chunks(self) -> _t.AsyncIterator[bytes]:
        while chunk := await asyncio.to_thread(self._next):
            yield chunk


#: A success answer's body: its messages, or a stream of them.
Body = list[bytes] | Stream


def small_answer(result: _t.Any, model: type[_rt.Model] | None, check: bool) -> list[bytes] | None:
    """The JSON body of a small success answer, checked against `model` first (when
    `check`; InvalidResult if it does not fit), or None for a big one (see write_answer)."""
    if isinstance(result, _rt.Model) and (model is None or isinstance(result, model)):
        # With msgspec installed, most results are checked and written in C (see _fast);
        # any it does not take, the walk below decides.
        written = _fast.answer_json(result, BIG_ANSWER_VALUES)
        if written is not None:
            return [written]
        # Most results pass as they are: checked and made JSON data in one walk, which also
        # counts their values (a big one stops it early), then written without looking for
        # NaN (the walk refused any).
        try:
            payload = _rt._fields_as_they_are(result, [BIG_ANSWER_VALUES])
        except _rt.AnswerTooBig:
            return None
        if payload is not None:
            return [_finite_json(payload)]
    if weight(result) > BIG_ANSWER_VALUES:
        return None
    return [_small_json(_payload(result, model, check, False))]


async def write_answer(
    result: _t.Any, model: type[_rt.Model] | None, *, check: bool = True
) -> Stream:
    """The JSON body of a big success answer (one that small_answer leaves): checked against
    `model` first (when `check`; InvalidResult if it does not fit) in a worker thread, then
    streamed: written in pieces, each in a worker thread, as it is sent."""
    payload = await asyncio.to_thread(_payload, result, model, check, True)
    return Stream(payload)
