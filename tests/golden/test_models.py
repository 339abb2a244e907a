"""Model semantics promised by the generated package: lossless round trips, absent vs null."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle

import pytest
from model_inference_2024_05_01_preview import (
    NOT_GIVEN,
    EmbeddingEncodingFormat,
    EmbeddingItem,
    EmbeddingsOptions,
    EmbeddingsResult,
    EmbeddingsUsage,
    Error,
    ErrorResponse,
    ModelInfo,
    ValidationError,
)


def test_unknown_properties_survive_a_round_trip() -> None:
    data = {"input": ["a"], "future_knob": {"nested": [1, 2]}, "seed": 7}
    options = EmbeddingsOptions.from_dict(data)
    assert options.additional_properties == {"future_knob": {"nested": [1, 2]}, "seed": 7}
    assert options.to_dict() == data


def test_unknown_enum_values_survive_a_round_trip() -> None:
    # open enum (a newer service may accept more formats)
    options = EmbeddingsOptions.from_dict({"input": ["a"], "encoding_format": "float16"})
    assert options.encoding_format == "float16"
    assert options.to_dict()["encoding_format"] == "float16"
    known = EmbeddingsOptions.from_dict({"input": ["a"], "encoding_format": "base64"})
    assert known.encoding_format is EmbeddingEncodingFormat.BASE64
    # a closed single-value enum read from a response is kept as it came...
    item = EmbeddingItem.from_dict({"index": 0, "object": "embedding_v2", "embedding": "AAAA"})
    assert item.to_dict()["object"] == "embedding_v2"
    # ...but strict validation (the server's view of a request) refuses it
    with pytest.raises(ValidationError) as caught:
        EmbeddingItem.validate({"index": 0, "object": "embedding_v2", "embedding": "AAAA"})
    assert [e.path for e in caught.value.errors] == ["object"]


def test_absent_differs_from_null() -> None:
    absent = EmbeddingsOptions(input=["a"])
    null = EmbeddingsOptions(input=["a"], dimensions=None)
    assert absent.dimensions is NOT_GIVEN and not NOT_GIVEN
    assert absent.to_dict() == {"input": ["a"]}
    assert null.to_dict() == {"input": ["a"], "dimensions": None}
    assert EmbeddingsOptions.from_dict({"input": ["a"], "dimensions": None}).dimensions is None
    assert EmbeddingsOptions.from_dict({"input": ["a"]}).dimensions is NOT_GIVEN


def test_embedding_is_a_float_array_or_a_base64_string() -> None:
    floats = EmbeddingItem.from_dict({"index": 0, "object": "embedding", "embedding": [0, 0.5]})
    text = EmbeddingItem.from_dict({"index": 1, "object": "embedding", "embedding": "AACAPw=="})
    assert floats.embedding == [0, 0.5] and text.embedding == "AACAPw=="
    assert json.dumps(floats.to_dict()) == '{"index": 0, "object": "embedding", "embedding": [0, 0.5]}'


@pytest.mark.parametrize(("data", "paths"), [
    ({}, ["input"]),
    ({"input": 5}, ["input"]),
    ({"input": [["a"]]}, ["input"]),
    ({"input": ["a"], "dimensions": 2**31}, ["dimensions"]),
    ({"input": ["a"], "dimensions": True}, ["dimensions"]),
    # input is a union (string, strings, tokens, token arrays): a bad item fails the union
    ({"input": ["a", None], "model": 5}, ["input", "model"]),
])
def test_validation_reports_every_path(data: dict[str, object], paths: list[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        EmbeddingsOptions.validate(data)
    assert [e.path for e in caught.value.errors] == paths


def test_recursive_error_model() -> None:
    data = {"error": {"code": "A", "message": "m", "details": [
        {"code": "B", "message": "n", "innererror": {"code": "C", "innererror": {"code": "D"}}}]}}
    parsed = ErrorResponse.from_dict(data)
    assert parsed.error.details[0].innererror.innererror.code == "D"  # type: ignore[union-attr,index]
    assert parsed.to_dict() == data


def test_results_compare_by_value() -> None:
    sample = {"id": "x", "data": [], "object": "list", "model": "m",
              "usage": {"prompt_tokens": 1, "total_tokens": 1}}
    assert EmbeddingsResult.from_dict(sample) == EmbeddingsResult.from_dict(sample)


def test_models_behave_as_value_objects() -> None:
    """What a model promises beside its JSON: keyword-only construction that rejects unknown
    and missing fields, no new attributes (a misspelled one raises), value equality (no hash:
    models are mutable), a readable repr, and copies and pickles that compare equal."""
    usage = EmbeddingsUsage(prompt_tokens=1, total_tokens=2)
    assert repr(usage) == (
        "EmbeddingsUsage(prompt_tokens=1, total_tokens=2, additional_properties={})")
    with pytest.raises(AttributeError):
        usage.total_token = 3  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="totl"):
        EmbeddingsUsage(prompt_tokens=1, total_tokens=2, totl=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="total_tokens"):
        EmbeddingsUsage(prompt_tokens=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        EmbeddingsUsage(1, 2)  # type: ignore[misc]
    assert usage == EmbeddingsUsage(prompt_tokens=1, total_tokens=2)
    assert usage != EmbeddingsUsage(prompt_tokens=1, total_tokens=2, additional_properties={"a": 1})
    assert usage != EmbeddingsUsage(prompt_tokens=1, total_tokens=3)
    assert usage != ModelInfo(model_name="1", model_type="2", model_provider_name="3")
    assert usage != (1, 2, {})
    with pytest.raises(TypeError):
        hash(usage)

    options = EmbeddingsOptions(input=["a"])
    assert options.dimensions is NOT_GIVEN and options.additional_properties == {}
    assert EmbeddingsOptions(input=["a"]).additional_properties is not options.additional_properties
    options.dimensions = 8
    assert options.to_dict() == {"input": ["a"], "dimensions": 8}

    nan = float("nan")  # the same object compares equal, as in a tuple
    item = EmbeddingItem(index=0, object="embedding", embedding=[nan, 1.0])
    assert item == copy.copy(item)
    for twin in (copy.deepcopy(item), pickle.loads(pickle.dumps(item))):
        assert repr(twin) == repr(item)
        assert twin.embedding is not item.embedding

    error = Error(code="a", message="b")
    error.details = [error]
    assert repr(error) == (
        "Error(code='a', message='b', target=NOT_GIVEN, details=[...], innererror=NOT_GIVEN, "
        "additional_properties={})")


def test_models_still_work_with_the_dataclasses_functions() -> None:
    """Models were dataclasses: fields(), replace(), asdict() and is_dataclass() still take
    them (their fields are made at first use, not at import)."""
    options = EmbeddingsOptions(input=["a"], additional_properties={"seed": 7})
    assert dataclasses.is_dataclass(options) and dataclasses.is_dataclass(EmbeddingsOptions)
    assert [f.name for f in dataclasses.fields(options)] == [
        "input", "dimensions", "encoding_format", "input_type", "model", "additional_properties"]
    assert all(f.kw_only for f in dataclasses.fields(EmbeddingsOptions))
    changed = dataclasses.replace(options, dimensions=8)
    assert changed.dimensions == 8 and changed.additional_properties == {"seed": 7}
    assert options.dimensions is NOT_GIVEN
    usage = EmbeddingsUsage(prompt_tokens=1, total_tokens=2)
    assert dataclasses.asdict(usage) == {
        "prompt_tokens": 1, "total_tokens": 2, "additional_properties": {}}
    assert dataclasses.astuple(usage) == (1, 2, {})
    match usage:
        case EmbeddingsUsage(prompt_tokens=1):
            pass
        case _:
            raise AssertionError("a keyword pattern did not match")
