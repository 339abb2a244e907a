"""The request body's optional msgspec fast path (_fast.body_model) against the plain way it
stands in for (_asgi._json_of, then Model.validate: orjson or the standard library, then the
check as it came or field by field), on every generated package's models: valid bodies and
seeded random damage, at the value level and in the JSON text. Whenever the fast path builds
a model, the plain way builds the same one (equal, and the same types: an enum member is
not its string); whenever it does not, the plain way decides alone, so every 400 stays as
it was. The server benchmark's body must be taken (else this would prove nothing), and
nothing runs without msgspec."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from tests.runtime.test_fast_answer import instance, modules, result_models

msgspec = pytest.importorskip("msgspec", reason="the fast path needs msgspec (the serve extra)")

PACKAGES = ["model_inference_2024_04_01_preview", "model_inference_2024_05_01_preview",
            "openai_embeddings_v1"]
BENCH_BODY = (b'{"input": ["the quick brown fox", "jumps over", "the lazy", "dog"], '
              b'"dimensions": 16, "encoding_format": "float"}')


def plain(package: str, model: Any, raw: bytes) -> Any:
    asgi = __import__(f"{package}._asgi", fromlist=["_asgi"])
    try:
        return model.validate(asgi._json_of(raw), max_errors=100)
    except Exception as exc:  # noqa: BLE001 (a 400 of either kind)
        return ("refused", type(exc).__name__, str(exc))


def shape(value: Any) -> Any:
    """A model's values with their exact types, nested models and lists included."""
    if isinstance(value, list):
        return [shape(v) for v in value]
    if hasattr(value, "_attrs"):
        return (type(value), [(a, shape(getattr(value, a))) for a in value._attrs])
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return (type(value), repr(value))


def agree(package: str, model: Any, raw: bytes) -> bool:
    """Whether the fast path builds what the plain way builds; True when it took the body."""
    _, _, fast, _ = modules(package)
    made = fast.body_model(model, raw)
    expected = plain(package, model, raw)
    if made is None:
        return False
    assert not isinstance(expected, tuple), (raw, expected)
    assert made == expected and shape(made) == shape(expected), raw
    return True


JUNK: list[Any] = [None, True, False, 0, -1, 1.0, 2.5, 2**31, -(2**31) - 1, 2**63, 10**30,
                   "", "x", "float", "base64", "text", "query", "\u2603", [], ["a"], [1, 2],
                   [[1, 2]], [["a"]], [True], [None], {}, {"a": 1}, "a" * 300]


def damaged(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    data = dict(data)
    how = rng.random()
    if how < 0.15 or not data:
        data[rng.choice(["extra", "input_type", "model", "dimensions"])] = rng.choice(JUNK)
    elif how < 0.25:
        del data[rng.choice(list(data))]
    else:
        data[rng.choice(list(data))] = rng.choice(JUNK)
    return data


def text_damaged(raw: bytes, rng: random.Random) -> bytes:
    """The JSON text itself damaged: what orjson and the standard library must refuse or
    read, and msgspec too."""
    cuts = [
        lambda b: b[: rng.randrange(len(b))],
        lambda b: b + rng.choice([b" ", b"x", b"}", b"\n", b"\x00"]),
        lambda b: b"\xef\xbb\xbf" + b,
        lambda b: b.replace(b'"', b"'", 1),
        lambda b: b.replace(b"}", b', "input": "dup"}', 1),
        lambda b: b.replace(b"}", b', "input_type": "\\ud800"}', 1),
        lambda b: b.replace(b"}", b', "model": "\\ud83d\\ude00 \\u0000 \xe2\x98\x83"}', 1),
        lambda b: b.replace(b"}", b', "model": "\xff"}', 1),
        lambda b: b.replace(b"}", b', "dimensions": NaN}', 1),
        lambda b: b.replace(b"}", b', "dimensions": 1e400}', 1),
        lambda b: b.replace(b"}", b', "dimensions": 123456789012345678901234}', 1),
        lambda b: b.replace(b"}", b', "dimensions": 16.0}', 1),
        lambda b: b.replace(b"}", b', "dimensions": -0}', 1),
        lambda b: b.replace(b"{", b'{"input": [' + b"[" * 50 + b"]" * 50 + b"],", 1),
        lambda b: b"[" + b + b"]",
        lambda b: b.replace(b", ", b",\t\r\n ", 3),
    ]
    return bytes(rng.choice(cuts)(raw))


@pytest.mark.parametrize("package", PACKAGES)
def test_bodies_are_made_alike(package: str) -> None:
    _, _, _, rt = modules(package)
    rng = random.Random(f"bodies {package}")
    taken = 0
    for model in result_models(package):
        for _ in range(30):
            data = rt.encode(instance(model, rt, rng))
            for raw in (json.dumps(data).encode(), json.dumps(damaged(data, rng)).encode(),
                        text_damaged(json.dumps(data).encode(), rng)):
                taken += agree(package, model, raw)
    assert taken > 30


def test_the_bench_body_and_its_variants_are_taken() -> None:
    package = "model_inference_2024_05_01_preview"
    models, _, fast, rt = modules(package)
    options = models.EmbeddingsOptions
    for raw in (BENCH_BODY, b'{"input": "one"}', b'{"input": [], "dimensions": null}',
                b'{"input": ["a"], "input_type": "query", "encoding_format": "int8"}',
                b'{"input": ["a"], "input_type": "someday", "model": "m"}',
                b'{"input": ["a"], "input": "b"}'):
        assert agree(package, options, raw), raw
    made = fast.body_model(options, BENCH_BODY)
    assert made.encoding_format is models.EmbeddingEncodingFormat.FLOAT
    assert made.input_type is rt.NOT_GIVEN and made.additional_properties == {}
    # Left to the plain way: unknown properties (the extra-parameters modes decide), token
    # arrays (another union variant), an int as a float, a lone surrogate, not JSON.
    for raw in (b'{"input": ["a"], "extra": 1}', b'{"input": [1, 2]}',
                b'{"input": ["a"], "dimensions": 16.0}', b'{"input": "\\ud800"}',
                b'{"input": ["a"]', b'{"input": ["a"], "dimensions": true}'):
        assert fast.body_model(options, raw) is None, raw


def test_without_msgspec_nothing_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    models, _, fast, _ = modules("model_inference_2024_05_01_preview")
    monkeypatch.setattr(fast, "_msgspec", None)
    assert fast.body_model(models.EmbeddingsOptions, BENCH_BODY) is None


def test_hand_built_kinds_agree_at_their_edges() -> None:
    """A model with the kinds the generated bodies do not all use (sized lists, a closed
    enum, nested models, a list of models, int and string literals, numbers), each at and
    past its edges, against validate() of the parsed body."""
    import dataclasses
    import enum

    from generator.runtime import _fast
    from generator.runtime import _runtime as rt

    class Mode(enum.StrEnum):
        A = "a"
        B = "b"

    @dataclasses.dataclass(kw_only=True, slots=True)
    class Inner(rt.Model):
        n: Any = rt.NOT_GIVEN
        additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)

    @dataclasses.dataclass(kw_only=True, slots=True)
    class Body(rt.Model):
        texts: Any = rt.NOT_GIVEN
        mode: Any = rt.NOT_GIVEN
        inner: Any = rt.NOT_GIVEN
        inners: Any = rt.NOT_GIVEN
        kind: Any = rt.NOT_GIVEN
        score: Any = rt.NOT_GIVEN
        flag: Any = rt.NOT_GIVEN
        additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)

    Inner._set_fields((rt.Field("n", "n", rt.NumberCodec(integer=True, format="int32"), True),),
                      None)
    Body._set_fields((
        rt.Field("texts", "texts", rt.ArrayCodec(rt.StringCodec(), min_items=1, max_items=2),
                 True),
        rt.Field("mode", "mode", rt.EnumCodec(Mode, open=False), False),
        rt.Field("inner", "inner", rt.NullableCodec(rt.ModelCodec(lambda: Inner)), False),
        rt.Field("in-ners", "inners", rt.ArrayCodec(rt.ModelCodec(lambda: Inner)), False),
        rt.Field("kind", "kind", rt.LiteralCodec(("x", 7)), False),
        rt.Field("score", "score", rt.NumberCodec(), False),
        rt.Field("flag", "flag", rt.NullableCodec(rt.BooleanCodec()), False),
    ), rt.ANY)
    values: dict[str, list[Any]] = {
        "texts": [[], ["a"], ["a", "b"], ["a", "b", "c"], [1], "a"],
        "mode": ["a", "b", "c", 1, None],
        "inner": [None, {"n": 1}, {"n": 2**31}, {"n": 1, "m": 2}, {}, [], {"n": True}],
        "in-ners": [[], [{"n": 0}], [{"n": 0}, {"n": "0"}], [None], {}],
        "kind": ["x", 7, "y", 7.0, True, None],
        "score": [0, -1.5, 1e308, True, "1", None],
        "flag": [True, None, 0],
        "extra": [1],
    }
    rng = random.Random(5)
    taken = 0
    for _ in range(400):
        data = {"texts": ["t"]}
        for key in rng.sample(sorted(values), rng.randint(0, 4)):
            data[key] = rng.choice(values[key])
        raw = json.dumps(data).encode()
        made = _fast.body_model(Body, raw)
        try:
            expected: Any = Body.validate(json.loads(raw), max_errors=100)
        except rt.ValidationError as exc:
            expected = exc
        if made is not None:
            taken += 1
            assert made == expected and shape(made) == shape(expected), raw
    assert taken > 50


def test_the_app_answers_every_body_as_without_msgspec(monkeypatch: pytest.MonkeyPatch) -> None:
    """Good and bad bodies through the generated app (direct ASGI calls), msgspec on and off:
    the same status and the same body (the request id aside), each 400's message included."""
    from tests.server.test_operator import app_for, run

    _, _, fast, _ = modules("model_inference_2024_05_01_preview")
    bodies = [BENCH_BODY, b'{"input": ["a"], "extra": 1}', b'{"input": [1, 2]}',
              b'{"input": ["a"], "dimensions": 16.0}', b'{"input": "\\ud800"}', b'{"input": [',
              b'{"input": ["a"], "dimensions": true}', b'{"input": ["a"], "dimensions": 2147483648}',
              b'{"dimensions": 4}', b'[]', b'{"input": ["a"], "input_type": 5}', b'\xef\xbb\xbf{}',
              b'{"input": ["a"], "encoding_format": "int8", "model": null}']

    def answers() -> list[Any]:
        found = []
        for raw in bodies:
            exchange = run(app_for(), chunks=(raw,))
            payload = json.loads(exchange.body)
            found.append((exchange.status, payload.get("error", payload)))
        return found

    with_msgspec = answers()
    monkeypatch.setattr(fast, "_msgspec", None)
    assert answers() == with_msgspec
    assert [status for status, _ in with_msgspec].count(200) == 3
