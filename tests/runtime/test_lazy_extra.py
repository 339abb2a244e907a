"""A decoded model without unknown properties has no additional_properties dict until it is
used (`_runtime._without_empty_extra`, a speed helper: one object per decoded item, not
two). Seen from outside, nothing differs from a model built with an empty dict."""

from __future__ import annotations

import copy
import dataclasses
import gc
import pickle
from typing import Any

import pytest

from generator.runtime import _runtime as rt


@dataclasses.dataclass(kw_only=True, slots=True)
class Item(rt.Model):
    index: Any = rt.NOT_GIVEN
    name: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


Item._set_fields(
    (
        rt.Field("index", "index", rt.NumberCodec(integer=True), True),
        rt.Field("name", "name", rt.StringCodec(), False),
    ),
    rt.ANY,
)


def test_a_decoded_model_reads_writes_and_compares_as_one_built_by_hand() -> None:
    decoded = Item.from_dict({"index": 1})
    built = Item(index=1)
    assert decoded == built and repr(decoded) == repr(built)
    assert decoded.additional_properties == {}
    decoded.additional_properties["seen"] = True  # the dict made on first use is kept
    assert decoded.additional_properties == {"seen": True}
    assert decoded.to_dict() == {"index": 1, "seen": True}
    assert Item.from_dict({"index": 2}).to_dict() == {"index": 2}
    assert Item.validate({"index": 3}) == Item(index=3)


def test_unknown_properties_are_kept_as_before() -> None:
    decoded = Item.from_dict({"index": 1, "extra": [1, 2]})
    assert decoded.additional_properties == {"extra": [1, 2]}
    assert decoded.to_dict() == {"index": 1, "extra": [1, 2]}


def test_copies_pickles_and_dataclass_helpers_see_the_same_model() -> None:
    decoded = Item.from_dict({"index": 1, "name": "a"})
    for other in (copy.copy(decoded), copy.deepcopy(decoded),
                  pickle.loads(pickle.dumps(decoded)), dataclasses.replace(decoded)):
        assert other == decoded and other.additional_properties == {}
    assert dataclasses.asdict(Item.from_dict({"index": 1})) == {
        "index": 1, "name": rt.NOT_GIVEN, "additional_properties": {}}


def test_other_missing_attributes_fail_as_usual() -> None:
    decoded = Item.from_dict({"index": 1})
    with pytest.raises(AttributeError, match="'Item' object has no attribute 'nme'"):
        decoded.nme  # type: ignore[attr-defined]  # noqa: B018
    assert not hasattr(decoded, "nme") and hasattr(decoded, "additional_properties")


def test_decoding_items_allocates_one_tracked_object_each() -> None:
    data = [{"index": i} for i in range(300)]
    codec = rt.ArrayCodec(rt.ModelCodec(lambda: Item))
    gc.collect()
    gc.disable()
    try:
        before = gc.get_count()[0]
        items = rt.decode_answer(codec, data, "items")
        grew = gc.get_count()[0] - before
    finally:
        gc.enable()
    assert len(items) == 300
    assert grew < 2 * 300  # one model per item, plus the list (two per item without the helper)
