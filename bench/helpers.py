"""The generated runtime's speed helpers, each timed against the plain way on the same answer.

    python bench/helpers.py [--repeat 15]

Issue 13: generated code keeps a shortcut only where it matters, in a named helper whose
comment gives the figure printed here. For each helper, the plain way (what the code would
be without it) is put in its place in the generated package's module for the "plain" runs,
then the helper is put back: the same public operation runs both ways on the same data, in
one process. Each figure is the median of `repeat` runs, interleaved; the cyclic GC runs as
in an application (no collect() between runs), as in the client section: a helper that
spares allocations spares GC passes too.

The answers are the client section's (bench/apps.py canned_bodies: 256 x 1,024 float32
values) plus int8 and ubinary answers of the same shape.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generated"))
sys.path.insert(1, str(Path(__file__).resolve().parent))

import apps
from load import BODY
import model_inference_2024_05_01_preview as pkg
from model_inference_2024_05_01_preview import _answer, _asgi, _fast, _runtime, encoding, models

# ---- the plain ways -----------------------------------------------------------------------


def plain_all_plain(values: Any, types: frozenset[type], strict: bool) -> bool:
    return False  # every item through its codec


def plain_base64_bytes(value: object) -> bytes:
    if not isinstance(value, str):
        raise TypeError("a base64 embedding must be a string")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid base64 embedding: {exc}") from None
    if len(raw) % 4:
        raise ValueError("a base64 embedding must hold whole float32 values")
    return raw


def plain_all_ints_within(numbers: Sequence[Any], low: int, high: int) -> bool:
    return False  # the checking loop over every value


def plain_fields_as_they_are(value: Any, budget: Any = None) -> None:
    return None  # every field through its codec's dump


def without_msgspec(action: Callable[[], Any]) -> Callable[[], Any]:
    """`action` with the optional msgspec fast path off (_fast, timed in its own row): the
    rows of the helpers it would stand in front of time those helpers, not it."""

    def run() -> Any:
        saved, _fast._msgspec = _fast._msgspec, None
        try:
            return action()
        finally:
            _fast._msgspec = saved

    return run


def plain_model_as_it_came(model: Any, data: Any) -> None:
    return None  # every field through its codec's decode


def plain_parsed_by_orjson(raw: bytes) -> Any:
    return _asgi._NOT_PARSED  # the standard library parses every body


def plain_decode_in_place(items: Any, values: list[Any], path: str, errors: list[Any],
                          strict: bool) -> list[Any]:
    # A new list of models, each with its own additional_properties dict, beside the parsed one.
    return [items.decode(v, f"{path}[{i}]", errors, strict) for i, v in enumerate(values)]


def plain_variants_for(union: Any, value: Any) -> Any:
    return union.variants  # every variant tried in order, whatever the value's type


def plain_unpack_bits(packed: Iterable[int]) -> bytes:
    return bytes((byte >> shift) & 1 for byte in packed for shift in range(7, -1, -1))


# ---- the cases ----------------------------------------------------------------------------


def answer(rows: list[Any]) -> dict[str, Any]:
    return {"id": "bench", "object": "list", "model": "bench",
            "data": [{"index": i, "object": "embedding", "embedding": e}
                     for i, e in enumerate(rows)],
            "usage": {"prompt_tokens": len(rows), "total_tokens": len(rows)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)

    bodies = apps.canned_bodies()
    rng = random.Random(7)
    texts = {
        "float": bodies["float"].decode(),
        "base64": bodies["base64"].decode(),
        "small": bodies["small"].decode(),
        "int8": json.dumps(answer([[rng.randint(-128, 127) for _ in range(1024)]
                                   for _ in range(256)])),
        "ubinary": json.dumps(answer([[rng.randint(0, 255) for _ in range(128)]
                                      for _ in range(256)])),
    }
    Result = models.EmbeddingsResult
    decoded = Result.from_dict(json.loads(texts["float"]))
    floats = json.loads(texts["float"])
    # What the server benchmark's service answers (bench/apps.py, 4 inputs, 16 dimensions).
    served = Result.from_dict(json.loads(apps.floor_body()))

    result_codec = _runtime.ModelCodec(lambda: Result)

    def read(body: str, helper: str = "vectors") -> Callable[[], Any]:
        """What a client does with the answer: json.loads, the model (as the client decodes
        the JSON it has just parsed: owned), the vectors."""
        fmt = "float" if body == "small" else body
        return lambda: getattr(_runtime.decode_answer(
            result_codec, json.loads(texts[body]), "answer", owned=True), helper)(fmt)

    small = Result.from_dict(answer([decoded.data[0].embedding] * 16))
    # The server benchmark's request body (bench/load.py: 4 texts, 16 dimensions), parsed.
    request = json.loads(BODY)

    def written(body: bytes) -> Any:
        """An answer's body as JSON data: orjson and the standard library write the same
        values, with another spelling of some exponents (3.4e-6 against 3.4e-06)."""
        return json.loads(body)

    # (module, name, plain way, [(what it is timed on, action[, what of its result must be
    # the same both ways])]); the server's answers are written as _answer.write_answer does,
    # checks off (timed above): a big answer (more than BIG_ANSWER_VALUES) in pieces, a
    # small one in one go.
    helpers: list[tuple[Any, str, Any, list[tuple[Any, ...]]]] = [
        (_runtime, "_all_plain", plain_all_plain, [
            ("client: float answer to lists (json + model + vectors)", read("float")),
            ("server: strict check of the float answer (check_results)",
             lambda: Result.validate(floats)),
            ("server: encoding the float answer (to_dict)", lambda: _runtime.encode(decoded)),
            ("server: result check of the float answer (checked_dict)", decoded.checked_dict),
        ]),
        (_runtime, "_decode_in_place", plain_decode_in_place, [
            ("client: float answer to lists (json + model + vectors)", read("float")),
            ("client: float answer to float32 arrays", read("float", "vectors_array")),
            ("client: base64 answer to lists (json + model + vectors)", read("base64")),
        ]),
        (_runtime, "_variants_for", plain_variants_for, [
            ("client: base64 answer, json + model (decode_answer)",
             lambda: _runtime.decode_answer(result_codec, json.loads(texts["base64"]), "answer",
                                            owned=True)),
            ("client: base64 answer to lists (json + model + vectors)", read("base64")),
        ]),
        (_runtime, "_fields_as_they_are", plain_fields_as_they_are, [
            ("server: the server benchmark's 4 x 16 answer checked and written (small_answer)",
             without_msgspec(lambda: _answer.small_answer(served, Result, True))),
            ("server: result check of the server benchmark's 4 x 16 answer (checked_dict)",
             served.checked_dict),
            ("server: result check of the float answer (checked_dict)", decoded.checked_dict),
        ]),
        (_runtime, "_model_as_it_came", plain_model_as_it_came, [
            ("server: request check of the server benchmark's body (validate), 1,000 times",
             lambda: [models.EmbeddingsOptions.validate(request, max_errors=100)
                      for _ in range(1000)],
             lambda made: repr(made[0])),  # the types too: an enum member is not its str
        ]),
        (_asgi, "_parsed_by_orjson", plain_parsed_by_orjson, [
            ("server: reading the server benchmark's request body (JSON), 1,000 times",
             lambda: [_asgi._json_of(BODY) for _ in range(1000)], lambda read: repr(read[0])),
        ]),
        (encoding, "_base64_bytes", plain_base64_bytes, [
            ("client: base64 answer to lists (json + model + vectors)", read("base64")),
            ("client: base64 answer to float32 arrays", read("base64", "vectors_array")),
        ]),
        (encoding, "_all_ints_within", plain_all_ints_within, [
            ("client: int8 answer to lists (json + model + vectors)", read("int8")),
        ]),
        (encoding, "_unpack_bits", plain_unpack_bits, [
            ("client: ubinary answer to bits (json + model + vectors)", read("ubinary")),
        ]),
        (_answer, "_orjson", None, [
            ("server: writing the float answer (big: in pieces)",
             lambda: b"".join(_answer._pieces(_answer._payload(decoded, None, False, True))),
             written),
            ("server: writing 16 x 1,024 floats (small: in one piece)",
             without_msgspec(lambda: b"".join(_answer.small_answer(small, None, False) or [])),
             written),
        ]),
        (_fast, "_msgspec", None, [
            ("server: the server benchmark's 4 x 16 answer checked and written (small_answer)",
             lambda: b"".join(_answer.small_answer(served, Result, True) or []), written),
            ("server: 16 x 1,024 floats checked and written (small_answer)",
             lambda: b"".join(_answer.small_answer(small, Result, True) or []), written),
            ("server: the server benchmark's request body read and checked (_read_json's "
             "body_model, else json + validate), 1,000 times",
             lambda: [_fast.body_model(models.EmbeddingsOptions, BODY)
                      or models.EmbeddingsOptions.validate(_asgi._json_of(BODY), max_errors=100)
                      for _ in range(1000)],
             lambda made: repr(made[0])),  # the types too: an enum member is not its str
        ]),
    ]
    print(f"generated package: {pkg.__name__}; median of {args.repeat} interleaved runs")
    print()
    print("| helper | timed on | with it (ms) | plain way (ms) | plain / with |")
    print("|---|---|---:|---:|---:|")
    for module, name, plain, cases in helpers:
        helper = getattr(module, name)
        label = f"{getattr(module, '__name__', '').rsplit('.', 1)[-1]}.{name}"
        if helper is None:  # an optional library that is not installed
            print(f"| {label} | not installed: nothing to time | | | |")
            continue
        for what, action, *rest in cases:
            # The same result both ways: a helper is a shortcut, never a change of meaning.
            same: Callable[[Any], Any] = rest[0] if rest else (lambda result: result)
            setattr(module, name, plain)
            expected = same(action())
            setattr(module, name, helper)
            if same(action()) != expected:
                print(f"{label}: the plain way gives another result on {what}")
                return 1
            times: dict[bool, list[float]] = {True: [], False: []}
            for round_number in range(args.repeat):
                for use_helper in (True, False) if round_number % 2 else (False, True):
                    setattr(module, name, helper if use_helper else plain)
                    started = time.perf_counter()
                    action()
                    times[use_helper].append(time.perf_counter() - started)
            setattr(module, name, helper)
            with_it = statistics.median(times[True]) * 1000
            plain_way = statistics.median(times[False]) * 1000
            # Three decimals below a millisecond: a small answer's figures are microseconds.
            digits = 2 if min(with_it, plain_way) >= 1 else 3
            print(f"| {label} | {what} | {with_it:.{digits}f} | {plain_way:.{digits}f} | "
                  f"{plain_way / with_it:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
