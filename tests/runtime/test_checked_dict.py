"""Model.checked_dict (the server's result check, in the walk that writes the JSON) against
what it stands in for, `validate(to_dict())`: the same JSON when it fits, the same problems
(paths and messages) when it does not, on hand-built models (no generated package) and on
seeded random damage to valid values."""

from __future__ import annotations

import dataclasses
import enum
import math
import random
from typing import Any

import pytest

from generator.runtime import _runtime as rt


class Kind(enum.StrEnum):
    A = "a"
    B = "b"


@dataclasses.dataclass(kw_only=True, slots=True)
class Usage(rt.Model):
    tokens: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True, slots=True)
class Item(rt.Model):
    index: Any = rt.NOT_GIVEN
    object: Any = rt.NOT_GIVEN
    vector: Any = rt.NOT_GIVEN
    kind: Any = rt.NOT_GIVEN
    note: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True, slots=True)
class Vector(rt.Model):
    """Fields that the speed helper (_fields_as_they_are) passes as they are."""

    index: Any = rt.NOT_GIVEN
    object: Any = rt.NOT_GIVEN
    values: Any = rt.NOT_GIVEN
    label: Any = rt.NOT_GIVEN
    score: Any = rt.NOT_GIVEN
    flag: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True, slots=True)
class Closed(rt.Model):
    name: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True, slots=True)
class Result(rt.Model):
    id: Any = rt.NOT_GIVEN
    data: Any = rt.NOT_GIVEN
    usage: Any = rt.NOT_GIVEN
    tags: Any = rt.NOT_GIVEN
    closed: Any = rt.NOT_GIVEN
    extra: Any = rt.NOT_GIVEN
    vectors: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


Usage._set_fields(
    (rt.Field("tokens", "tokens", rt.NumberCodec(integer=True, format="int32"), True),), rt.ANY
)
Item._set_fields(
    (
        rt.Field("index", "index", rt.NumberCodec(integer=True, format="int32"), True),
        rt.Field("object", "object", rt.LiteralCodec(("embedding",)), True),
        rt.Field(
            "vector",
            "vector",
            rt.UnionCodec((rt.ArrayCodec(rt.NumberCodec()), rt.StringCodec())),
            True,
        ),
        rt.Field("kind", "kind", rt.EnumCodec(Kind, open=False), False),
        rt.Field(
            "note", "note", rt.NullableCodec(rt.StringCodec(max_length=5)), False
        ),
    ),
    rt.ANY,
)
Vector._set_fields(
    (
        rt.Field("index", "index", rt.NumberCodec(integer=True, format="int32"), True),
        rt.Field("object", "object", rt.LiteralCodec(("embedding",)), True),
        rt.Field(
            "values", "values", rt.UnionCodec((rt.StringCodec(), rt.ArrayCodec(rt.NumberCodec()))),
            True,
        ),
        rt.Field("label", "label", rt.NullableCodec(rt.StringCodec()), False),
        rt.Field("score", "score", rt.NumberCodec(), False),
        rt.Field("flag", "flag", rt.BooleanCodec(), False),
    ),
    rt.ANY,
)
Closed._set_fields((rt.Field("name", "name", rt.StringCodec(), True),), None)
Result._set_fields(
    (
        rt.Field("id", "id", rt.StringCodec(), True),
        rt.Field("data", "data", rt.ArrayCodec(rt.ModelCodec(lambda: Item), min_items=1), True),
        rt.Field("usage", "usage", rt.ModelCodec(lambda: Usage), True),
        rt.Field("tags", "tags", rt.MapCodec(rt.ArrayCodec(rt.StringCodec())), False),
        rt.Field("closed", "closed", rt.ModelCodec(lambda: Closed), False),
        rt.Field("extra", "extra", rt.LazyCodec(lambda: rt.ANY), False),
        rt.Field("vectors", "vectors", rt.ArrayCodec(rt.ModelCodec(lambda: Vector)), False),
    ),
    rt.NumberCodec(),
)


def valid() -> Result:
    return Result(
        id="r",
        data=[
            Item(index=0, object="embedding", vector=[0.5, -1, 2.25], kind=Kind.A),
            Item(index=1, object="embedding", vector="AAAA", note=None),
            Item(index=2, object="embedding", vector=[], note="abc", kind="b"),
        ],
        usage=Usage(tokens=3, additional_properties={"x": [1, 2]}),
        tags={"t": ["a", "b"]},
        closed=Closed(name="n"),
        extra={"free": [1, "two", None]},
        vectors=[
            Vector(index=0, object="embedding", values=[0.5, 2, -1e300], label=None, flag=True),
            Vector(index=2**31 - 1, object="embedding", values="AAAA", label="x", score=3),
            Vector(index=-(2**31), object="embedding", values=[], score=0.25),
        ],
        additional_properties={"score": 1.5},
    )


def outcome(make: Any) -> tuple[str, Any]:
    """("ok", JSON) or ("invalid", [(path, message)...]) for both routes."""
    value = make()
    try:
        checked = ("ok", value.checked_dict(max_errors=10))
    except rt.ValidationError as exc:
        checked = ("invalid", [(e.path, e.message) for e in exc.errors])
    try:
        plain = value.to_dict()
        Result.validate(plain, max_errors=10)
        expected = ("ok", plain)
    except rt.ValidationError as exc:
        expected = ("invalid", [(e.path, e.message) for e in exc.errors])
    return checked, expected


def test_a_valid_result_is_its_to_dict() -> None:
    checked, expected = outcome(valid)
    assert checked == expected
    assert checked[0] == "ok"


DAMAGE: list[tuple[str, Any]] = [
    ("id", None), ("id", 7), ("id", rt.NOT_GIVEN), ("data", "oops"), ("data", []),
    ("data", [Item(index="0", object="embedding", vector=[1.0])]),
    ("data", [Item(index=2**31, object="embedding", vector=[1.0])]),
    ("data", [Item(index=True, object="embedding", vector=[1.0])]),
    ("data", [Item(index=0, object="other", vector=[1.0])]),
    ("data", [Item(index=0, object="embedding", vector=[1.0, math.inf, "x"])]),
    ("data", [Item(index=0, object="embedding", vector=[1e308, 1e308])]),
    ("data", [Item(index=0, object="embedding", vector=[True])]),
    ("data", [Item(index=0, object="embedding", vector=7)]),
    ("data", [Item(index=0, object="embedding", vector=(1.0, 2))]),
    ("data", [Item(index=0, object="embedding", vector=[1.0], kind="c")]),
    ("data", [Item(index=0, object="embedding", vector=[1.0], note="toolong")]),
    ("data", [Item(index=0, vector=[1.0])]),
    ("data", [{"index": 0, "object": "embedding", "vector": [1.0]}]),
    ("data", [{"index": "no"}]),
    ("data", [Usage(tokens=1)]),
    ("usage", Usage(tokens=-(2**31) - 1)),
    ("usage", Item(index=0, object="embedding", vector=[])),
    ("usage", {"tokens": 1}),
    ("tags", {"t": ["a", 1]}),
    ("tags", ["a"]),
    ("closed", Closed(name="n", additional_properties={"more": 1})),
    ("extra", object()),
]


@pytest.mark.parametrize("field,value", DAMAGE, ids=[f"{f}={v!r}"[:60] for f, v in DAMAGE])
def test_damage_is_found_as_validate_finds_it(field: str, value: Any) -> None:
    def make() -> Result:
        result = valid()
        object.__setattr__(result, field, value)
        return result

    try:
        checked, expected = outcome(make)
    except TypeError:  # an object() cannot be written: both routes fail alike
        with pytest.raises(TypeError):
            make().to_dict() and Result.validate(make().to_dict())
        return
    assert checked == expected


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_where_validate_never_sees_them(number: float) -> None:
    """Parsed JSON holds no NaN nor infinity, so validate() checks a vector's item types
    only; a service's result may hold them, and JSON cannot carry them: refused."""
    result = valid()
    object.__setattr__(result, "data", [Item(index=0, object="embedding", vector=[1.0, number])])
    with pytest.raises(rt.ValidationError) as caught:
        result.checked_dict()
    assert [e.path for e in caught.value.errors] == ["data[0].vector"]
    object.__setattr__(result, "usage", Usage(tokens=number))
    with pytest.raises(rt.ValidationError, match="usage.tokens: must be a finite number"):
        result.checked_dict()


def test_unknown_properties_are_checked_by_the_models_rule() -> None:
    def bad_extra() -> Result:
        result = valid()
        result.additional_properties["score"] = "high"  # must be a number
        result.additional_properties["id"] = "shadowed"  # a field's name: the field wins
        return result

    checked, expected = outcome(bad_extra)
    assert checked == expected
    assert checked[0] == "invalid"


@pytest.mark.parametrize("helper", [True, False], ids=["speed helper", "plain walk"])
def test_random_damage_agrees(helper: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not helper:  # the plain way, as bench/helpers.py puts it in the helper's place
        monkeypatch.setattr(rt, "_fields_as_they_are", lambda value, budget=None: None)
    rng = random.Random(14)
    values: list[Any] = [None, 0, -1, 2**40, 2**31, 1.5, math.nan, math.inf, "", "x", "embedding",
                         True, [], [1], [1.5, True], (1.0,), {}, Kind.B, rt.NOT_GIVEN]
    for _ in range(400):
        def make() -> Result:
            result = valid()
            target: rt.Model = rng.choice([result, *result.data, result.usage, *result.vectors])
            field = rng.choice(target._fields)
            object.__setattr__(target, field.attr, rng.choice(values))
            return result

        checked, expected = outcome(make)  # one damaged value, checked both ways
        assert checked == expected


def test_the_speed_helper_and_the_plain_walk_agree_on_non_finite_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def answers() -> list[Any]:
        found = []
        for number in (math.nan, math.inf, -math.inf, 1e308):
            for attr in ("values", "score"):
                result = valid()
                vector = result.vectors[0]
                object.__setattr__(vector, attr, [1e308, number] if attr == "values" else number)
                try:
                    found.append(result.checked_dict())
                except rt.ValidationError as exc:
                    found.append([(e.path, e.message) for e in exc.errors])
        return found

    with_helper = answers()
    monkeypatch.setattr(rt, "_fields_as_they_are", lambda value, budget=None: None)
    assert answers() == with_helper


def test_the_speed_helper_takes_the_plain_models_only() -> None:
    result = valid()
    assert rt._fields_as_they_are(result.vectors[0]) == result.vectors[0].to_dict()
    assert rt._fields_as_they_are(result.data[0]) is None  # an enum field: the plain walk
    assert rt._fields_as_they_are(result.usage) is None  # unknown properties: the plain walk
    damaged = Vector(index=0, object="embedding", values=[1.0, math.inf])
    assert rt._fields_as_they_are(damaged) is None


def test_the_error_cap_holds() -> None:
    result = valid()
    object.__setattr__(result, "data", [Item(index="x", object="y", vector=None)] * 20)
    with pytest.raises(rt.ValidationError) as caught:
        result.checked_dict(max_errors=5)
    assert len(caught.value.errors) == 5 and caught.value.truncated


@dataclasses.dataclass(kw_only=True, slots=True)
class Pack(rt.Model):
    """A model that the speed helper takes whole: its models and lists of models too."""

    id: Any = rt.NOT_GIVEN
    vectors: Any = rt.NOT_GIVEN
    first: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


Pack._set_fields(
    (
        rt.Field("id", "id", rt.StringCodec(), True),
        rt.Field("vectors", "vectors", rt.ArrayCodec(rt.ModelCodec(lambda: Vector)), True),
        rt.Field("first", "first", rt.ModelCodec(lambda: Vector), False),
    ),
    rt.ANY,
)


def pack() -> Pack:
    return Pack(id="p", vectors=valid().vectors, first=valid().vectors[1])


def test_the_speed_helper_takes_models_of_plain_models_whole() -> None:
    value = pack()
    assert rt._fields_as_they_are(value) == value.to_dict()
    object.__setattr__(value, "first", rt.NOT_GIVEN)
    assert rt._fields_as_they_are(value) == value.to_dict()


@pytest.mark.parametrize("helper", [True, False], ids=["speed helper", "plain walk"])
def test_random_damage_to_nested_plain_models_agrees(
    helper: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not helper:
        monkeypatch.setattr(rt, "_fields_as_they_are", lambda value, budget=None: None)
    rng = random.Random(41)
    values: list[Any] = [None, 0, 2**31, 1.5, math.inf, "", "embedding", True, [], [1.5, True],
                         (1.0,), {}, rt.NOT_GIVEN, [Closed(name="n")], Closed(name="n"),
                         {"index": 0, "object": "embedding", "values": []}]
    for _ in range(300):
        value = pack()
        target: rt.Model = rng.choice([value, *value.vectors, value.first])
        field = rng.choice(target._fields)
        object.__setattr__(target, field.attr, rng.choice(values))
        try:
            checked: Any = value.checked_dict(max_errors=10)
        except rt.ValidationError as exc:
            checked = [(e.path, e.message) for e in exc.errors]
        try:
            plain = value.to_dict()
            Pack.validate(plain, max_errors=10)
            expected: Any = plain
        except rt.ValidationError as exc:
            expected = [(e.path, e.message) for e in exc.errors]
        assert checked == expected


def test_the_speed_helper_counts_list_items_against_a_budget() -> None:
    """With a budget, the walk counts each list's items before walking it, and stops
    (AnswerTooBig) as soon as they pass it: a big answer is found without being walked."""
    value = pack()  # 3 models in `vectors`, holding 3 + 0 + 0 numbers (and a string), + 1
    budget = [1000]
    assert rt._fields_as_they_are(value, budget) == value.to_dict()
    assert budget == [1000 - 3 - 3 - 0]  # the list of 3 models, its one vector of 3 numbers
    with pytest.raises(rt.AnswerTooBig):
        rt._fields_as_they_are(value, [5])
    # Counted before walking: a list past the budget is never checked item by item, even
    # when an item would not pass.
    big = Pack(id="p", vectors=[Vector(index=0, object="embedding", values=[math.nan] * 50)])
    with pytest.raises(rt.AnswerTooBig):
        rt._fields_as_they_are(big, [40])
    assert rt._fields_as_they_are(big) is None  # without a budget: it does not pass
    assert rt._fields_as_they_are(big, [100]) is None


def test_a_list_of_models_is_taken_only_when_each_item_is_of_its_class_and_plain() -> None:
    """The helper finds a list's item checks once and walks each item with them: an item of
    another class (a subclass too), with unknown properties, or failing a check, leaves the
    whole model to the plain walk; an empty list passes as it is."""

    class Sub(Vector):
        pass

    Sub._set_fields(Vector._fields, rt.ANY)
    value = pack()
    assert rt._fields_as_they_are(value) == value.to_dict()
    for odd in (
        Sub(index=0, object="embedding", values=[1.0]),
        Vector(index=0, object="embedding", values=[1.0], additional_properties={"x": 1}),
        Vector(index=0, object="other", values=[1.0]),
        Closed(name="n"),
    ):
        object.__setattr__(value, "vectors", [*pack().vectors, odd])
        assert rt._fields_as_they_are(value) is None
        # The plain walk decides; it agrees with validate() of to_dict().
        try:
            checked: Any = value.checked_dict(max_errors=10)
        except rt.ValidationError as exc:
            checked = [(e.path, e.message) for e in exc.errors]
        try:
            expected: Any = value.to_dict()
            Pack.validate(expected, max_errors=10)
        except rt.ValidationError as exc:
            expected = [(e.path, e.message) for e in exc.errors]
        assert checked == expected
    object.__setattr__(value, "vectors", [])
    assert rt._fields_as_they_are(value) == value.to_dict()
