"""The answer's optional msgspec fast path (_fast.answer_json) against the plain way it stands
in for (_answer.small_answer without it: the walk, then orjson or the standard library), on
every generated package's models: valid results, the invalid results the server tests name,
and seeded random damage. Both must decide alike (taken, refused with the same error, or left
to the worker thread as big) and write JSON of the same value: the same keys in the same
order, ints as ints, floats to the bit. The fast path must also take the valid embeddings
answers (else this would prove nothing), and step aside when msgspec is not installed."""

from __future__ import annotations

import enum
import importlib
import json
import math
import random
import struct
from typing import Any

import pytest

from tests.conftest import GENERATED

msgspec = pytest.importorskip("msgspec", reason="the fast path needs msgspec (the serve extra)")

PACKAGES = sorted(p.name for p in GENERATED.iterdir() if (p / "_fast.py").is_file())
#: The embeddings answers whose classes the fast path takes (2024-04's has an enum field).
TAKEN = {
    "model_inference_2024_05_01_preview": "EmbeddingsResult",
    "openai_embeddings_v1": "CreateEmbeddingResponse",
}


def modules(package: str) -> tuple[Any, Any, Any, Any]:
    names = ("models", "_answer", "_fast", "_runtime")
    found = [importlib.import_module(f"{package}.{name}") for name in names]
    return found[0], found[1], found[2], found[3]


def typed(value: Any) -> Any:
    """JSON data with each value's type kept (1 is not 1.0, -0.0 is not 0.0) and key order."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, list):
        return ["list", *map(typed, value)]
    return ("dict", [(key, typed(item)) for key, item in value.items()])


def decided(package: str, result: Any, model: Any, fast: bool) -> Any:
    """What small_answer answers for `result`, the fast path on or off."""
    _, answer, fast_module, _ = modules(package)
    saved = fast_module._msgspec
    if not fast:
        fast_module._msgspec = None
    try:
        body = answer.small_answer(result, model, True)
    except answer.InvalidResult as invalid:
        return ("invalid", str(invalid))
    except Exception as exc:  # noqa: BLE001 (both ways must fail alike)
        return ("error", type(exc).__name__, str(exc))
    finally:
        fast_module._msgspec = saved
    if body is None:
        return ("big",)
    return ("ok", typed(json.loads(b"".join(body))))


# ---- values ------------------------------------------------------------------------------

FLOATS = [0.0, -0.0, 1.5, -1.5, 0.1 + 0.2, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, 3, -7]


def random_float(rng: random.Random) -> float:
    """Any finite double, its bits drawn at random: the writers' float formats compared."""
    while True:
        number: float = struct.unpack("<d", rng.randbytes(8))[0]
        if math.isfinite(number):
            return number


def make(codec: Any, rt: Any, rng: random.Random, depth: int = 0) -> Any:
    """A value for `codec`: most often one it takes, built the way a service would."""
    kind = type(codec)
    if kind is rt.LazyCodec:
        return make(codec._get(), rt, rng, depth)
    if kind is rt.StringCodec:
        text = rng.choice(["", "x", "caf\u00e9 \u2603", "embedding", "AAAA" * 8, "a\"b\\c\n"])
        if codec.min_length is not None:
            text = text.ljust(codec.min_length, "y")
        if codec.max_length is not None:
            text = text[: codec.max_length]
        return text
    if kind is rt.NumberCodec:
        if codec.integer:
            low, high = rt._INT_RANGES.get(codec.format or "", (-(2**70), 2**70))
            number: Any = rng.choice([0, 1, 7, low, high, rng.randint(low, high)])
        else:
            number = rng.choice([*FLOATS, random_float(rng)])
        if codec.minimum is not None and number < codec.minimum:
            number = codec.minimum
        return number
    if kind is rt.BooleanCodec:
        return rng.random() < 0.5
    if kind is rt.NullCodec:
        return None
    if kind is rt.NullableCodec:
        return None if rng.random() < 0.3 else make(codec.inner, rt, rng, depth)
    if kind is rt.LiteralCodec:
        return rng.choice(codec.values)
    if kind is rt.EnumCodec:
        return rng.choice(list(codec.enum_type))
    if kind is rt.ArrayCodec:
        low = codec.min_items or 0
        count = low + rng.randint(0, 0 if depth > 2 else 4)
        if type(codec.items) is rt.NumberCodec and not codec.items.integer:
            count = rng.choice([count, 16, 64])
        return [make(codec.items, rt, rng, depth + 1) for _ in range(count)]
    if kind is rt.MapCodec:
        return {"k": make(codec.values, rt, rng, depth + 1)}
    if kind is rt.UnionCodec:
        return make(rng.choice(codec.variants), rt, rng, depth)
    if kind is rt.ModelCodec:
        return instance(codec._get(), rt, rng, depth + 1)
    return rng.choice([None, 1, "free", [1, "two"], {"a": 1}])


def instance(model: Any, rt: Any, rng: random.Random, depth: int = 0) -> Any:
    values = {f.attr: make(f.codec, rt, rng, depth) for f in model._fields
              if f.required or (depth < 3 and rng.random() < 0.5)}
    return model(**values)


class Text(str):
    pass


class Number(int):
    pass


class Real(float):
    pass


class Color(enum.StrEnum):
    EMBEDDING = "embedding"
    LIST = "list"


class Size(enum.IntEnum):
    ONE = 1


class ListOf(list[Any]):
    pass


def damages(rt: Any, models: Any) -> list[Any]:
    """Values a service may wrongly put anywhere in its result."""
    models_found = [m for m in vars(models).values()
                    if isinstance(m, type) and issubclass(m, rt.Model) and m._fields]
    other = models_found[0](**{f.attr: "x" for f in models_found[0]._fields if f.required})
    return [
        None, True, False, 0, -1, 2**31, -(2**31) - 1, 2**63, 2**64 + 1, 10**400, 1.5, 3.0,
        math.nan, math.inf, -math.inf, "", "x", "embedding", "list", Text("embedding"),
        Text("list"), Color.EMBEDDING, Color.LIST, Size.ONE, Number(3), Real(0.5), (0.5, 1),
        {0.5}, frozenset((0.5,)), [True], [math.nan], [1e308, 1e308], [1, 2.5, -0.0],
        [[0.1]], [Number(2), Size.ONE], [Real(0.25)], ListOf([0.5, 1]), {}, {"index": 0},
        {"a": [1]}, rt.NOT_GIVEN, other, object(), [other], "lone \ud800 surrogate",
    ]


def targets(value: Any, rt: Any, seen: set[int] | None = None) -> list[Any]:
    """The models in `value` (itself, its nested models and lists of models)."""
    seen = set() if seen is None else seen
    seen.add(id(value))
    found = [value]
    for field in value._fields:
        item = getattr(value, field.attr, None)
        for nested in item if isinstance(item, list) else [item]:
            if isinstance(nested, rt.Model) and id(nested) not in seen:
                found.extend(targets(nested, rt, seen))
    return found


def damage(value: Any, rt: Any, rng: random.Random, values: list[Any]) -> None:
    target = rng.choice(targets(value, rt))
    field = rng.choice(target._fields)
    how = rng.random()
    if how < 0.08:
        object.__delattr__(target, field.attr)  # a missing attribute
    elif how < 0.16:
        target.additional_properties[rng.choice(["x", field.wire])] = rng.choice(values)
    elif how < 0.2:
        object.__setattr__(target, "additional_properties", rng.choice([None, [], {"y": 1}]))
    elif how < 0.28 and isinstance(getattr(target, field.attr, None), list):
        getattr(target, field.attr).append(rng.choice(values))  # a bad item among good ones
    else:
        object.__setattr__(target, field.attr, rng.choice(values))


def result_models(package: str) -> list[Any]:
    models, _, _, rt = modules(package)
    return sorted((m for m in vars(models).values() if isinstance(m, type)
                   and issubclass(m, rt.Model) and m is not rt.Model and m._fields),
                  key=lambda m: m.__name__)


# ---- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("package", PACKAGES)
def test_valid_results_are_written_alike_and_the_embeddings_answer_is_taken(package: str) -> None:
    _, answer, fast, rt = modules(package)
    rng = random.Random(f"valid {package}")
    taken: dict[str, int] = {}
    for model in result_models(package):
        for _ in range(40):
            value = instance(model, rt, rng)
            expected = decided(package, value, model, fast=False)
            assert decided(package, value, model, fast=True) == expected, (model, value)
            if fast.answer_json(value, answer.BIG_ANSWER_VALUES) is not None:
                assert expected[0] == "ok"
                taken[model.__name__] = taken.get(model.__name__, 0) + 1
    if package in TAKEN:  # every valid embeddings answer goes the fast way
        assert taken.get(TAKEN[package]) == 40, taken


@pytest.mark.parametrize("package", PACKAGES)
def test_random_damage_is_decided_alike(package: str) -> None:
    models, answer, fast, rt = modules(package)
    rng = random.Random(f"damage {package}")
    outcomes: dict[str, int] = {}
    for model in result_models(package):
        for _ in range(60 if model.__name__ in TAKEN.values() else 10):
            value = instance(model, rt, rng)
            for _ in range(rng.choice([1, 1, 2])):
                damage(value, rt, rng, damages(rt, models))
            expected = decided(package, value, model, fast=False)
            assert decided(package, value, model, fast=True) == expected, (model, value)
            written = fast.answer_json(value, answer.BIG_ANSWER_VALUES)
            if written is not None:  # taken: only ever what the plain way takes, as it writes it
                assert expected == ("ok", typed(json.loads(written)))
            outcomes[expected[0]] = outcomes.get(expected[0], 0) + 1
    assert outcomes.get("invalid", 0) > 20 and outcomes.get("ok", 0) > 5, outcomes


def embeddings_result(models: Any, **fields: Any) -> Any:
    return models.EmbeddingsResult(**{
        "id": "r", "object": "list", "model": "m",
        "data": [models.EmbeddingItem(index=i, object="embedding", embedding=[0.25, -1, 3e-9])
                 for i in range(3)],
        "usage": models.EmbeddingsUsage(prompt_tokens=1, total_tokens=1), **fields})


def item(models: Any, **fields: Any) -> Any:
    return models.EmbeddingItem(**{"index": 0, "object": "embedding", "embedding": [0.1], **fields})


PACKAGE = "model_inference_2024_05_01_preview"


def never_taken(models: Any, not_given: Any) -> list[dict[str, Any]]:
    """tests/server/test_operator.py's invalid results; then what msgspec alone would take,
    or write otherwise, and the plain check refuses; then what the plain check takes in
    another shape (a tuple) and decides alone."""
    return [
        {"id": None}, {"data": "oops"}, {"object": 7}, {"id": not_given}, {"usage": not_given},
        {"data": [item(models, index="0")]}, {"data": [item(models, index=2**31)]},
        {"data": [item(models, index=True)]}, {"data": [item(models, embedding=[0.1, math.nan])]},
        {"data": [item(models, embedding=[True])]}, {"data": [item(models, embedding=[[0.1]])]},
        {"data": [item(models, object=not_given)]},
        {"data": [models.EmbeddingsUsage(prompt_tokens=1, total_tokens=1)]},
        {"usage": item(models)},
        {"usage": models.EmbeddingsUsage(prompt_tokens=1.5, total_tokens=1)},
        {"data": [item(models), {"index": 1}]},
        # msgspec would take these:
        {"data": [item(models, embedding={0.5})]},
        {"data": [item(models, embedding=frozenset((0.5,)))]},
        {"data": [item(models, object=Text("embedding"))]}, {"object": Text("list")},
        {"data": [item(models, embedding=[math.inf])]}, {"data": [item(models, index=3.0)]},
        # msgspec would write these otherwise (in its field order, without unknown keys):
        {"data": [{"object": "embedding", "index": 0, "embedding": [0.1], "more": 1}]},
        {"usage": {"total_tokens": 1, "prompt_tokens": 1}},
        # The plain check takes these:
        {"data": (item(models),)}, {"data": [item(models, embedding=(0.5, 1))]},
    ]


def test_the_invalid_results_of_the_server_tests_are_never_taken() -> None:
    models, answer, fast, rt = modules(PACKAGE)
    for fields in never_taken(models, rt.NOT_GIVEN):
        value = embeddings_result(models, **fields)
        assert fast.answer_json(value, answer.BIG_ANSWER_VALUES) is None, fields
        expected = decided(PACKAGE, value, models.EmbeddingsResult, fast=False)
        assert decided(PACKAGE, value, models.EmbeddingsResult, fast=True) == expected


def test_a_subclass_or_unknown_properties_leave_it_to_the_plain_check() -> None:
    models, answer, fast, _ = modules(PACKAGE)

    class Item(models.EmbeddingItem):
        pass

    for fields in ({"data": [item(models), Item(index=1, object="embedding", embedding=[])]},
                   {"data": [item(models, additional_properties={"x": 1})]},
                   {"usage": models.EmbeddingsUsage(prompt_tokens=1, total_tokens=1,
                                                    additional_properties={"x": 1})},
                   {"additional_properties": {"extra": True}}):
        value = embeddings_result(models, **fields)
        assert fast.answer_json(value, answer.BIG_ANSWER_VALUES) is None
        assert decided(PACKAGE, value, models.EmbeddingsResult, fast=True)[0] == "ok"


def test_a_big_answer_is_counted_before_msgspec_sees_it() -> None:
    """Past BIG_ANSWER_VALUES list items, the fast path steps aside without converting, and
    small_answer leaves the answer to the worker thread, as without msgspec; a later long
    vector counts as much as a first one; base64 strings do not count."""
    models, answer, fast, _ = modules(PACKAGE)
    big = answer.BIG_ANSWER_VALUES
    tricky = embeddings_result(models)
    tricky.data[2].embedding = [0.5] * (big + 10)
    assert fast.answer_json(tricky, big) is None
    assert answer.small_answer(tricky, models.EmbeddingsResult, True) is None
    many = embeddings_result(models, data=[item(models, index=i) for i in range(big + 1)])
    assert fast.answer_json(many, big) is None
    assert answer.small_answer(many, models.EmbeddingsResult, True) is None
    just = embeddings_result(models, data=[item(models, embedding=[0.5] * (big - 1))])
    assert fast.answer_json(just, big) is not None
    texts = embeddings_result(models, data=[item(models, index=i, embedding="A" * (big // 2))
                                            for i in range(3)] + [item(models, index=3)])
    written = fast.answer_json(texts, big)
    assert written is not None and json.loads(written) == texts.to_dict()


def test_without_msgspec_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    models, answer, fast, _ = modules(PACKAGE)
    real = importlib.import_module

    def no_msgspec(name: str, *args: Any) -> Any:
        if name == "msgspec":
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_msgspec)
    assert fast._import_msgspec() is None
    monkeypatch.setattr(fast, "_msgspec", None)
    value = embeddings_result(models)
    assert fast.answer_json(value, answer.BIG_ANSWER_VALUES) is None
    [body] = answer.small_answer(value, models.EmbeddingsResult, True) or []
    assert json.loads(body) == value.to_dict()


def test_with_orjson_the_fast_path_writes_the_plain_ways_bytes() -> None:
    """orjson writes both ways' JSON: the same bytes, floats included (1e+16, 3e-09)."""
    pytest.importorskip("orjson", reason="the plain way writes with orjson when installed")
    models, answer, fast, _ = modules(PACKAGE)
    assert fast._orjson is not None
    value = embeddings_result(models, id="caf\u00e9 \u2603 \"q\" \\ \n \x00")
    for item_ in value.data:
        item_.embedding = [*FLOATS, 1e16, 3e-9, 123456789.125]
    written = fast.answer_json(value, answer.BIG_ANSWER_VALUES)
    assert written is not None
    saved = fast._msgspec
    fast._msgspec = None  # the plain way: the walk, then orjson
    try:
        [plain] = answer.small_answer(value, models.EmbeddingsResult, True) or []
    finally:
        fast._msgspec = saved
    assert written == plain
    assert typed(json.loads(written)) == typed(value.to_dict())


def test_without_orjson_msgspec_writes_the_same_json_value(monkeypatch: pytest.MonkeyPatch) -> None:
    models, answer, fast, _ = modules(PACKAGE)
    monkeypatch.setattr(fast, "_orjson", None)
    value = embeddings_result(models, id="caf\u00e9 \u2603 \"q\" \\ \n \x00")
    written = fast.answer_json(value, answer.BIG_ANSWER_VALUES)
    assert written is not None
    assert typed(json.loads(written)) == typed(value.to_dict())
