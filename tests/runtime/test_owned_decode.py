"""A client's answer is decoded into the JSON it has just parsed (`decode_answer(owned=True)`,
the speed helper `_runtime._decode_in_place`): each item's model replaces its dict in the
parsed list, without an empty additional_properties dict until one is used. Seen from
outside, the result is the one from_dict gives; data a caller passes in is never changed."""

from __future__ import annotations

import copy
import dataclasses
import gc
import json
import pickle
from typing import Any

import pytest

from generator.runtime import _runtime as rt


@dataclasses.dataclass(kw_only=True, slots=True)
class Item(rt.Model):
    index: Any = rt.NOT_GIVEN
    name: Any = rt.NOT_GIVEN
    vector: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True, slots=True)
class Other(rt.Model):
    label: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True, slots=True)
class Answer(rt.Model):
    data: Any = rt.NOT_GIVEN
    either: Any = rt.NOT_GIVEN
    additional_properties: dict[str, Any] = dataclasses.field(default_factory=dict)


Item._set_fields(
    (
        rt.Field("index", "index", rt.NumberCodec(integer=True), True),
        rt.Field("name", "name", rt.StringCodec(), False),
        rt.Field("vector", "vector", rt.ArrayCodec(rt.NumberCodec()), False),
    ),
    rt.ANY,
)
Other._set_fields((rt.Field("label", "label", rt.StringCodec(), True),), None)
Answer._set_fields(
    (
        rt.Field("data", "data", rt.ArrayCodec(rt.ModelCodec(lambda: Item)), True),
        # A union of two lists of models: the first variant fails on the second item.
        rt.Field(
            "either",
            "either",
            rt.UnionCodec(
                (
                    rt.ArrayCodec(rt.ModelCodec(lambda: Other)),
                    rt.ArrayCodec(rt.ModelCodec(lambda: Item)),
                )
            ),
            False,
        ),
    ),
    rt.ANY,
)
ANSWER = rt.ModelCodec(lambda: Answer)
TEXT = json.dumps(
    {
        "data": [
            {"index": 0, "vector": [0.5, 1]},
            {"index": 1, "name": "b", "extra": [1, 2]},
        ],
        "either": [{"label": "x", "index": 3}, {"index": 7}],
        "top": True,
    }
)


def owned(text: str = TEXT) -> Any:
    return rt.decode_answer(ANSWER, json.loads(text), "answer", owned=True)


def test_an_owned_answer_decodes_to_what_from_dict_gives() -> None:
    parsed = json.loads(TEXT)
    data = parsed["data"]
    result = rt.decode_answer(ANSWER, parsed, "answer", owned=True)
    expected = Answer.from_dict(json.loads(TEXT))
    assert result == expected and repr(result) == repr(expected)
    assert result.to_dict() == expected.to_dict() == json.loads(TEXT)
    assert result.data is data  # the parsed list itself, holding the models now
    assert [type(item) for item in result.data] == [Item, Item]
    assert result.data[0].vector == [0.5, 1] and result.data[1].name == "b"
    assert result.data[1].additional_properties == {"extra": [1, 2]}
    # A union's variant that fails (Other, on the second item) leaves the value as it came
    # for the next one.
    assert result.either == [Item(index=3, additional_properties={"label": "x"}), Item(index=7)]


def test_data_passed_in_is_never_changed() -> None:
    for decode in (
        lambda data: Answer.from_dict(data),
        lambda data: Answer.validate(data),
        lambda data: rt.decode_answer(ANSWER, data, "answer"),
    ):
        data = json.loads(TEXT)
        try:
            decode(data)
        except rt.ValidationError:
            pass  # validate(): "top" is allowed, the union is not; the data is the point
        assert data == json.loads(TEXT)
        assert all(type(item) is dict for item in data["data"])


def test_a_decoded_item_without_unknown_properties_makes_its_dict_on_first_use() -> None:
    item = owned().data[0]
    assert item == Item(index=0, vector=[0.5, 1]) and repr(item) == repr(
        Item(index=0, vector=[0.5, 1])
    )
    assert item.additional_properties == {}
    item.additional_properties["seen"] = True  # the dict made on first use is kept
    assert item.additional_properties == {"seen": True}
    assert item.to_dict() == {"index": 0, "vector": [0.5, 1], "seen": True}


def test_copies_pickles_and_dataclass_helpers_see_the_same_model() -> None:
    item = owned().data[0]
    for other in (
        copy.copy(item),
        copy.deepcopy(item),
        pickle.loads(pickle.dumps(item)),
        dataclasses.replace(item),
    ):
        assert other == item and other.additional_properties == {}
    assert dataclasses.asdict(owned().data[0]) == {
        "index": 0,
        "name": rt.NOT_GIVEN,
        "vector": [0.5, 1],
        "additional_properties": {},
    }
    assert owned().data[0].checked_dict() == {"index": 0, "vector": [0.5, 1]}


def test_other_missing_attributes_fail_as_usual() -> None:
    item = owned().data[0]
    with pytest.raises(AttributeError, match="'Item' object has no attribute 'nme'"):
        item.nme  # type: ignore[attr-defined]  # noqa: B018
    assert not hasattr(item, "nme") and hasattr(item, "additional_properties")


def test_an_owned_answer_still_says_where_each_problem_is() -> None:
    bad = json.dumps({"data": [{"index": 0}, {"index": "one", "vector": [1, "x"]}, {}]})
    with pytest.raises(rt.ValidationError) as caught:
        owned(bad)
    paths = {error.path for error in caught.value.errors}
    assert {"data[1].index", "data[1].vector[1]", "data[2].index"} <= paths


def test_an_owned_answer_keeps_few_containers_alive() -> None:
    # CPython's GC makes a young pass once 700 new containers are alive, and that pass walks
    # every vector just parsed: decoding must not add a container per item (a model and a
    # dict each, beside the parsed dicts, made it two).
    text = json.dumps({"data": [{"index": i, "vector": [0.5] * 8} for i in range(600)]})
    grew = {}
    for is_owned in (True, False):
        parsed = json.loads(text)
        gc.collect()
        gc.disable()
        try:
            before = gc.get_count()[0]
            result = rt.decode_answer(ANSWER, parsed, "answer", owned=is_owned)
            grew[is_owned] = gc.get_count()[0] - before
        finally:
            gc.enable()
        assert len(result.data) == 600
        del parsed, result
    # Freed item dicts first fill CPython's dict free list (80), which does not count down.
    assert grew[True] < 150 < 2 * 600 <= grew[False]


def test_a_generated_answer_decoded_by_the_client_copies_pickles_and_compares() -> None:
    # The generated models are slotted classes, not dataclasses: the same checks on them.
    from model_inference_2024_05_01_preview import _runtime as generated_rt
    from model_inference_2024_05_01_preview import models

    text = json.dumps(
        {
            "id": "x",
            "object": "list",
            "model": "m",
            "data": [{"index": i, "object": "embedding", "embedding": [0.5, i]} for i in range(3)],
            "usage": {"prompt_tokens": 3, "total_tokens": 3},
        }
    )
    codec = generated_rt.ModelCodec(lambda: models.EmbeddingsResult)
    result = generated_rt.decode_answer(codec, json.loads(text), "answer", owned=True)
    assert result == models.EmbeddingsResult.from_dict(json.loads(text))
    assert result.to_dict() == result.checked_dict() == json.loads(text)
    assert result.vectors("float") == [[0.5, 0], [0.5, 1], [0.5, 2]]
    item = result.data[0]
    for other in (copy.copy(item), copy.deepcopy(item), pickle.loads(pickle.dumps(item)),
                  dataclasses.replace(item)):
        assert other == item and other.additional_properties == {}
    assert copy.deepcopy(result) == result == pickle.loads(pickle.dumps(result))
    assert dataclasses.asdict(item)["additional_properties"] == {}
    assert "additional_properties={}" in repr(item)
