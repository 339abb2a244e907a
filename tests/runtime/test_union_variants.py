"""A union offers a value only to the variants that may take its JSON type (the speed helper
`_runtime._variants_for`); the result and every error are those of trying each variant in
order (the plain way), for every kind of value."""

from __future__ import annotations

import enum
from typing import Any

import pytest

from generator.runtime import _runtime as rt


class Color(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    ONE = 1


class Label(str):
    """A str subclass: not a JSON type of its own, offered to every variant."""


def unions() -> list[rt.UnionCodec]:
    return [
        # An embedding: an array of numbers or a base64 string.
        rt.UnionCodec((rt.ArrayCodec(rt.NumberCodec()), rt.StringCodec())),
        rt.UnionCodec((rt.StringCodec(min_length=3), rt.ArrayCodec(rt.StringCodec()))),
        rt.UnionCodec((rt.NumberCodec(integer=True), rt.BooleanCodec(), rt.NullCodec())),
        rt.UnionCodec((rt.NullableCodec(rt.NumberCodec(minimum=0)), rt.StringCodec())),
        rt.UnionCodec((rt.LiteralCodec(("a", 1)), rt.EnumCodec(Color, open=False))),
        rt.UnionCodec((rt.EnumCodec(Level, open=True), rt.MapCodec(rt.NumberCodec()))),
        # A variant whose types are not told (a union, a lazy codec): kept for every type.
        rt.UnionCodec(
            (
                rt.LazyCodec(lambda: rt.NumberCodec()),
                rt.UnionCodec((rt.StringCodec(), rt.BooleanCodec())),
            )
        ),
    ]


VALUES: list[Any] = [
    [0.5, 1, -2.0],
    [0.5, "x"],
    ["a", "b"],
    "AAAAAA==",
    "ab",
    "red",
    "a",
    Label("red"),
    1,
    -1,
    1.0,
    1.5,
    True,
    False,
    None,
    {"a": 1},
    {"a": "b"},
    (1, 2),
    float("nan"),
]


def decoded(union: rt.UnionCodec, value: Any, strict: bool) -> tuple[str, list[rt.FieldError]]:
    errors: list[rt.FieldError] = []
    result = union.decode(value, "x", errors, strict)
    return repr(result), errors


@pytest.mark.parametrize("strict", [False, True])
def test_same_result_and_errors_as_every_variant_in_order(
    strict: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [(union, value) for union in unions() for value in VALUES]
    fast = [decoded(union, value, strict) for union, value in cases]
    monkeypatch.setattr(rt, "_variants_for", lambda union, value: union.variants)
    plain = [decoded(union, value, strict) for union, value in cases]
    assert fast == plain
    # The cases hold values taken and values refused.
    assert any(errors for _, errors in fast) and any(not errors for _, errors in fast)


def test_a_base64_item_is_offered_to_the_string_variant_alone() -> None:
    array, string = rt.ArrayCodec(rt.NumberCodec()), rt.StringCodec()
    union = rt.UnionCodec((array, string))
    assert rt._variants_for(union, "AAAAAA==") == (string,)
    assert rt._variants_for(union, [0.5]) == (array,)
    assert rt._variants_for(union, None) == ()
    assert rt._variants_for(union, Label("x")) == (array, string)  # not a JSON type
    errors: list[rt.FieldError] = []
    assert union.decode(None, "data[3].embedding", errors, False) is None
    assert [str(e) for e in errors] == [
        "data[3].embedding: does not match any allowed type (got null)"
    ]
