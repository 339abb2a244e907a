"""The request-side speed helper (`_model_as_it_came`, in Model.validate) against the plain
walk it stands in for: the same model (the same values, enum members for known enum values,
unknown properties kept) when a body fits, and the helper steps aside (None) whenever it
cannot tell, so that the plain walk says what is wrong and where. On hand-built models (no
generated package), listed bodies and seeded random damage to a valid one."""

from __future__ import annotations

import copy
import dataclasses
import enum
import random
from typing import Any

import pytest

from generator.runtime import _runtime as rt


class Format(enum.StrEnum):
    FLOAT = "float"
    BASE64 = "base64"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass(kw_only=True, slots=True)
class Part(rt.Model):
    image: Any = rt.NOT_GIVEN
    text: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True, slots=True)
class Closed(rt.Model):
    name: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True, slots=True)
class Request(rt.Model):
    input: Any = rt.NOT_GIVEN
    dimensions: Any = rt.NOT_GIVEN
    format: Any = rt.NOT_GIVEN
    level: Any = rt.NOT_GIVEN
    kind: Any = rt.NOT_GIVEN
    model: Any = rt.NOT_GIVEN
    scale: Any = rt.NOT_GIVEN
    flag: Any = rt.NOT_GIVEN
    parts: Any = rt.NOT_GIVEN
    closed: Any = rt.NOT_GIVEN
    free: Any = rt.NOT_GIVEN
    vector: Any = rt.NOT_GIVEN
    few: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


Part._set_fields(
    (
        rt.Field("image", "image", rt.StringCodec(), True),
        rt.Field("text", "text", rt.StringCodec(), False),
    ),
    rt.ANY,
)
Closed._set_fields((rt.Field("name", "name", rt.StringCodec(), True),), None)
Request._set_fields(
    (
        rt.Field(
            "input",
            "input",
            rt.UnionCodec(
                (
                    rt.StringCodec(),
                    rt.ArrayCodec(rt.StringCodec()),
                    rt.ArrayCodec(rt.NumberCodec(integer=True)),
                    rt.ArrayCodec(rt.ArrayCodec(rt.NumberCodec(integer=True))),
                )
            ),
            True,
        ),
        rt.Field(
            "dimensions",
            "dimensions",
            rt.NullableCodec(rt.NumberCodec(integer=True, format="int32")),
            False,
        ),
        rt.Field("format", "format", rt.EnumCodec(Format, open=True), False),
        rt.Field("level", "level", rt.EnumCodec(Level, open=False), False),
        rt.Field("kind", "kind", rt.LiteralCodec(("a", 1)), False),
        rt.Field("model", "model", rt.StringCodec(), False),
        rt.Field("scale", "scale", rt.NumberCodec(), False),
        rt.Field("flag", "flag", rt.NullableCodec(rt.BooleanCodec()), False),
        rt.Field("parts", "parts", rt.ArrayCodec(rt.ModelCodec(lambda: Part)), False),
        rt.Field("closed", "closed", rt.ModelCodec(lambda: Closed), False),
        rt.Field("free", "free", rt.ANY, False),
        rt.Field(
            "vector",
            "vector",
            rt.UnionCodec((rt.ArrayCodec(rt.NumberCodec()), rt.StringCodec())),
            False,
        ),
        rt.Field(
            "few", "few", rt.ArrayCodec(rt.StringCodec(), min_items=1, max_items=2), False
        ),
    ),
    rt.ANY,
)


def valid() -> dict[str, Any]:
    return {
        "input": ["the quick brown fox", "jumps"],
        "dimensions": 16,
        "format": "float",
        "level": 2,
        "kind": "a",
        "model": "m",
        "scale": 0.5,
        "flag": None,
        "parts": [{"image": "i"}, {"image": "j", "text": "t", "more": [1]}],
        "closed": {"name": "n"},
        "free": {"any": [None, 1.5]},
        "vector": [1, 2.5],
        "few": ["x"],
        "unknown": {"kept": True},
    }


def outcome(data: Any) -> tuple[str, str]:
    """("ok", the model's repr: its values and their types) or ("invalid", the problems)."""
    try:
        return "ok", repr(Request.validate(copy.deepcopy(data), max_errors=10))
    except rt.ValidationError as exc:
        return "invalid", repr([(e.path, e.message) for e in exc.errors])


def plain_outcome(data: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    with monkeypatch.context() as patched:  # the plain way, as bench/helpers.py puts it
        patched.setattr(rt, "_model_as_it_came", lambda model, data: None)
        return outcome(data)


def test_a_valid_body_is_built_by_the_helper_as_the_plain_walk_builds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = valid()
    made = rt._model_as_it_came(Request, copy.deepcopy(body))
    assert made is not None
    assert made.format is Format.FLOAT and made.level is Level.HIGH
    assert isinstance(made.parts[1], Part) and made.parts[1].additional_properties == {"more": [1]}
    assert made.additional_properties == {"unknown": {"kept": True}}
    assert ("ok", repr(made)) == outcome(body) == plain_outcome(body, monkeypatch)


STEPS_ASIDE: list[tuple[str, Any]] = [
    ("input", [1, 2]),  # tokens: another list variant than the first, which the walk finds
    ("input", 7),
    ("dimensions", 16.0),  # an integer written as a float: the walk makes it an int
    ("dimensions", 2**31),
    ("dimensions", True),
    ("level", 3),  # a closed enum's unknown value
    ("format", 1),
    ("kind", 1.0),
    ("scale", "1"),
    ("parts", [{"text": "no image"}]),
    ("closed", {"name": "n", "more": 1}),  # a closed model's unknown property
    ("few", []),
    ("few", ["a", "b", "c"]),
    ("vector", [1, "x"]),
    ("input", ("a",)),  # not a type that JSON makes
]


@pytest.mark.parametrize("field,value", STEPS_ASIDE, ids=[f"{f}={v!r}" for f, v in STEPS_ASIDE])
def test_the_helper_steps_aside_where_the_value_does_not_pass_as_it_came(
    field: str, value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = valid()
    body[field] = value
    assert rt._model_as_it_came(Request, copy.deepcopy(body)) is None
    assert outcome(body) == plain_outcome(body, monkeypatch)


def test_open_enum_values_and_missing_optional_fields_pass_as_they_came() -> None:
    body = {"input": "one text", "format": "binary-ish"}
    made = rt._model_as_it_came(Request, body)
    assert made is not None and made.format == "binary-ish" and type(made.format) is str
    assert made.dimensions is rt.NOT_GIVEN
    assert rt._model_as_it_came(Request, {"format": "float"}) is None  # input is required
    assert rt._model_as_it_came(Request, ["not", "an", "object"]) is None


def test_random_damage_agrees_with_the_plain_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(16)
    values: list[Any] = [None, 0, -1, 1, 2, 2**31, 2**40, 1.5, 3.0, "", "a", "float", "base64",
                         True, False, [], ["x"], ["x", "y", "z"], [1, 2], [[1], [2]], [1.5, True],
                         [None], {}, {"image": "i"}, {"name": "n"}, [{"image": 1}],
                         [{"image": "i", "x": 1}], (1,)]
    fields = [f.wire for f in Request._fields] + ["unknown"]
    for _ in range(500):
        body = valid()
        for _ in range(rng.choice((1, 1, 2))):
            target = body
            parts = body.get("parts")
            held = [*(parts if type(parts) is list else ()), body.get("closed")]
            nested = [v for v in held if type(v) is dict]
            if nested and rng.random() < 0.2:  # inside a nested model
                target = rng.choice(nested)
                key = rng.choice([*target, "text", "other"])
            else:
                key = rng.choice(fields)
            if rng.random() < 0.15:
                target.pop(key, None)
            else:
                target[key] = rng.choice(values)
        assert outcome(body) == plain_outcome(body, monkeypatch), body


class Loose(enum.StrEnum):
    """An enum that finds members its own way (any case): the helper leaves it to the walk."""

    ONE = "one"

    @classmethod
    def _missing_(cls, value: object) -> Loose | None:
        return cls.ONE if isinstance(value, str) and value.lower() == "one" else None


@dataclasses.dataclass(kw_only=True, slots=True)
class Choice(rt.Model):
    pick: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


Choice._set_fields((rt.Field("pick", "pick", rt.EnumCodec(Loose, open=False), True),), rt.ANY)


def test_an_enum_with_its_own_lookup_is_left_to_the_plain_walk() -> None:
    assert rt._model_as_it_came(Choice, {"pick": "one"}) is None
    assert Choice.validate({"pick": "ONE"}).pick is Loose.ONE
