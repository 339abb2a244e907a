"""The generated encoding module: every encoding_format, both ways, with and without NumPy."""

from __future__ import annotations

import base64
import gc
import importlib
import random
import re
import struct
import sys

import pytest

PACKAGES = ["model_inference_2024_05_01_preview", "model_inference_2024_04_01_preview"]


@pytest.fixture(params=PACKAGES)
def enc(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"{request.param}.encoding")


VALUES = [0.5, -0.25, 1.0, -1.0, 0.0, 0.9, -0.001, 0.003, 2.0, -3.0]


def test_float_round_trip(enc) -> None:  # type: ignore[no-untyped-def]
    assert enc.encode_embedding(VALUES, "float") == VALUES
    assert enc.decode_embedding(VALUES, "float") == VALUES


def test_lists_as_sent_are_not_copied(enc) -> None:  # type: ignore[no-untyped-def]
    floats, int8 = [0.5, 1, -2.0], [3, -4]
    assert enc.decode_embedding(floats, "float") is floats  # a JSON 0 or 1 stays an int
    assert enc.decode_embedding(floats) is floats
    assert enc.decode_embedding(int8, "int8") is int8
    from_tuple = enc.decode_embedding((0.5, 1.0), "float")
    assert type(from_tuple) is list and from_tuple == [0.5, 1.0]


def test_base64_is_little_endian_float32(enc) -> None:  # type: ignore[no-untyped-def]
    text = enc.encode_embedding(VALUES, "base64")
    assert base64.b64decode(text) == struct.pack(f"<{len(VALUES)}f", *VALUES)
    decoded = enc.decode_embedding(text, "base64")
    assert decoded == list(struct.unpack(f"<{len(VALUES)}f", struct.pack(f"<{len(VALUES)}f", *VALUES)))
    # the OpenAI example: [1.0, -2.5] as float32 LE
    assert enc.decode_embedding(base64.b64encode(struct.pack("<2f", 1.0, -2.5)).decode(), "base64") == [1.0, -2.5]


def test_int8_and_uint8(enc) -> None:  # type: ignore[no-untyped-def]
    assert enc.encode_embedding([1.0, -1.0, 0.5, 2.0, -2.0, 0.0], "int8") == [127, -127, 64, 127, -128, 0]
    assert enc.encode_embedding([1.0, -1.0, 0.0, 2.0, -2.0], "uint8") == [255, 0, 128, 255, 0]
    assert enc.decode_embedding([127, -128, 3], "int8") == [127, -128, 3]
    assert enc.decode_embedding([0, 255], "uint8") == [0, 255]


def test_packed_bits(enc) -> None:  # type: ignore[no-untyped-def]
    values = [1, -1, 1, 1, -1, -1, -1, 1, 0.5, 0.2, 0]  # 11 values: 2 bytes, last padded
    assert enc.encode_embedding(values, "ubinary") == [0b10110001, 0b11000000]
    assert enc.encode_embedding(values, "binary") == [0b10110001 - 128, 0b11000000 - 128]
    bits = [1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0]
    assert enc.decode_embedding([0b10110001, 0b11000000], "ubinary") == bits + [0] * 5
    assert enc.decode_embedding([49, 64], "binary", dimensions=11) == bits
    assert enc.encode_embedding([], "ubinary") == []


@pytest.mark.parametrize("fmt", ["float", "base64", "int8", "uint8", "binary", "ubinary"])
def test_random_round_trips(enc, fmt: str) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(fmt)
    for _ in range(50):
        n = rng.randrange(0, 70)
        values = [rng.uniform(-1, 1) for _ in range(n)]
        decoded = enc.decode_embedding(enc.encode_embedding(values, fmt), fmt, dimensions=n)
        assert len(decoded) == n
        if fmt in ("binary", "ubinary"):
            assert decoded == [1 if v > 0 else 0 for v in values]
        elif fmt == "int8":
            assert all(abs(d / 127 - v) <= 0.5 / 127 + 1e-12 for d, v in zip(decoded, values, strict=True))
        elif fmt == "uint8":
            assert all(abs(d / 127.5 - 1 - v) <= 0.5 / 127.5 + 1e-12 for d, v in zip(decoded, values, strict=True))
        else:
            assert all(abs(d - v) < 1e-6 for d, v in zip(decoded, values, strict=True))


def test_enum_members_are_accepted(enc) -> None:  # type: ignore[no-untyped-def]
    models = importlib.import_module(enc.__name__.rsplit(".", 1)[0] + ".models")
    assert enc.encode_embedding([1.0], models.EmbeddingEncodingFormat.INT8) == [127]


def test_errors_name_the_formats(enc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="float, base64, int8, uint8, binary, ubinary"):
        enc.encode_embedding([1.0], "float16")
    with pytest.raises(ValueError, match="supported are"):
        enc.decode_embedding([1.0], "bogus")
    with pytest.raises(ValueError, match="whole float32"):
        enc.decode_embedding(base64.b64encode(b"abc").decode(), "base64")
    with pytest.raises(ValueError, match="invalid base64"):
        enc.decode_embedding("not base64!", "base64")
    with pytest.raises(TypeError):
        enc.decode_embedding([1.0], "base64")
    with pytest.raises(TypeError):
        enc.decode_embedding("AAAA", "float")
    with pytest.raises(ValueError, match="0..255"):
        enc.decode_embedding([256], "ubinary")
    with pytest.raises(ValueError, match="-128..127"):
        enc.decode_embedding([200], "binary")


def test_numpy_missing_gives_a_clear_error(enc, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "numpy", None)  # makes `import numpy` raise ImportError
    with pytest.raises(ImportError, match="needs NumPy"):
        enc.decode_embedding_numpy([1.0], "float")


def test_numpy_arrays(enc) -> None:  # type: ignore[no-untyped-def]
    np = pytest.importorskip("numpy")
    text = enc.encode_embedding(VALUES, "base64")
    array = enc.decode_embedding_numpy(text, "base64")
    assert array.dtype == np.float32 and array.tolist() == enc.decode_embedding(text, "base64")
    assert enc.decode_embedding_numpy(VALUES, "float").dtype == np.float32
    assert enc.decode_embedding_numpy([1, -2], "int8").dtype == np.int8
    assert enc.decode_embedding_numpy([1, 250], "uint8").dtype == np.uint8
    bits = enc.decode_embedding_numpy([49, 64], "binary", dimensions=11)
    assert bits.tolist() == enc.decode_embedding([49, 64], "binary", dimensions=11)
    assert enc.decode_embedding_numpy([177, 192], "ubinary").tolist() == enc.decode_embedding([177, 192], "ubinary")


FORMATS = ["float", "base64", "int8", "uint8", "binary", "ubinary"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_arrays_hold_the_same_numbers_as_lists(enc, fmt: str) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(fmt)
    typecode = {"float": "f", "base64": "f", "int8": "b"}.get(fmt, "B")
    for _ in range(30):
        n = rng.randrange(0, 70)
        wire = enc.encode_embedding([rng.uniform(-1, 1) for _ in range(n)], fmt)
        row = enc.decode_embedding_array(wire, fmt, dimensions=n)
        assert row.typecode == typecode and len(row) == n
        expected = enc.decode_embedding(wire, fmt, dimensions=n)
        if fmt == "float":  # the list keeps float64; the array holds float32 as base64 does
            expected = struct.unpack(f"<{n}f", struct.pack(f"<{n}f", *expected))
        assert row.tolist() == list(expected)
    rows = enc.decode_embeddings_array([wire, wire], fmt, dimensions=n)
    assert rows == [row, row]


def test_arrays_are_compact_and_shared_with_numpy(enc) -> None:  # type: ignore[no-untyped-def]
    text = enc.encode_embedding(VALUES, "base64")
    row = enc.decode_embedding_array(text, "base64")
    assert row.itemsize == 4 and row.tobytes() == struct.pack(f"<{len(VALUES)}f", *VALUES)
    assert enc.decode_embedding_array([1e39], "float").tolist() == [float("inf")]  # as float32
    assert enc.decode_embedding_array(text).typecode == "f"  # a string is base64
    assert enc.decode_embedding_array([3, -4]).tolist() == [3.0, -4.0]  # an array is float32
    np = pytest.importorskip("numpy")
    view = np.frombuffer(row, dtype=np.float32)
    assert view.tolist() == enc.decode_embedding_numpy(text, "base64").tolist()


@pytest.mark.parametrize(("value", "fmt", "error", "match"), [
    ("not base64!", "base64", ValueError, "invalid base64"),
    (base64.b64encode(b"abc").decode(), "base64", ValueError, "whole float32"),
    ([1.0], "base64", TypeError, "must be a string"),
    ("AAAA", "float", TypeError, "array of numbers"),
    (["x"], "float", TypeError, "real number"),  # a list passes it on as sent
    ([300], "int8", ValueError, "-128..127"),
    ([0.5], "uint8", ValueError, "0..255"),
    ([256], "ubinary", ValueError, "0..255"),
    ([1.0], "float16", ValueError, "supported are"),
])
def test_arrays_refuse_what_lists_refuse(enc, value: object, fmt: str, error: type[Exception], match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        enc.decode_embedding_array(value, fmt)
    with pytest.raises(error, match=match):
        enc.decode_embeddings_array([value], fmt)


def test_without_a_format_the_shape_decides(enc) -> None:  # type: ignore[no-untyped-def]
    text = enc.encode_embedding([1.0, -2.0], "base64")
    assert enc.decode_embedding(text) == [1.0, -2.0]
    assert enc.decode_embedding([3, -4]) == [3, -4]  # int8 stays as sent
    assert enc.decode_embeddings([text, [0.5]]) == [[1.0, -2.0], [0.5]]
    assert enc.decode_embeddings([[177, 192]], "ubinary", dimensions=9) == [[1, 0, 1, 1, 0, 0, 0, 1, 1]]


def test_numpy_batches(enc) -> None:  # type: ignore[no-untyped-def]
    np = pytest.importorskip("numpy")
    text = enc.encode_embedding([1.0, -2.0], "base64")
    matrix = enc.decode_embeddings_numpy([text, text])
    assert matrix.shape == (2, 2) and matrix.dtype == np.float32
    assert enc.decode_embeddings_numpy([]).shape == (0, 0)


@pytest.mark.parametrize(("fmt", "values"), [
    ("int8", [300, -5, 1]), ("int8", [1.9]), ("int8", [-129]), ("int8", [True]),
    ("uint8", [256]), ("uint8", [-1]), ("uint8", [2.0]),
])
def test_int8_and_uint8_values_are_checked(enc, fmt: str, values: list[float]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=f"a {fmt} embedding holds integers"):
        enc.decode_embedding(values, fmt)
    with pytest.raises(ValueError, match=f"a {fmt} embedding holds integers"):
        enc.decode_embeddings([[0], values], fmt)


def test_int_subclasses_come_back_as_plain_ints(enc) -> None:  # type: ignore[no-untyped-def]
    import enum

    class Level(enum.IntEnum):
        HIGH = 100

    for fmt in ("int8", "uint8"):
        decoded = enc.decode_embedding([Level.HIGH, 3], fmt)
        assert decoded == [100, 3] and type(decoded[0]) is int
        assert enc.decode_embedding_array([Level.HIGH, 3], fmt).tolist() == [100, 3]
    with pytest.raises(ValueError, match="got True"):
        enc.decode_embedding([1, True], "uint8")  # bool is an int subclass, and not a number here


@pytest.mark.parametrize(("fmt", "values"), [("int8", [300]), ("int8", [1.9]), ("uint8", [-5]),
                                             ("uint8", [0.5])])
def test_numpy_int8_and_uint8_values_are_checked(enc, fmt: str, values: list[float]) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("numpy")
    with pytest.raises(ValueError, match=f"a {fmt} embedding holds integers"):
        enc.decode_embedding_numpy(values, fmt)


def test_many_base64_rows_decode_as_each_one_does(enc) -> None:  # type: ignore[no-untyped-def]
    """decode_embeddings makes a base64 answer's rows in one step (empty lists first, see
    encoding._base64_rows): the numbers, the errors and the other paths are what
    decode_embedding gives one value at a time."""
    rng = random.Random(11)
    rows = [[rng.uniform(-1, 1) for _ in range(rng.randrange(0, 40))] for _ in range(900)]
    texts = [enc.encode_embedding(row, "base64") for row in rows]
    one_by_one = [enc.decode_embedding(text, "base64") for text in texts]
    models = importlib.import_module(enc.__name__.rsplit(".", 1)[0] + ".models")
    member = getattr(models.EmbeddingEncodingFormat, "BASE64", "base64")
    for fmt in ("base64", member, None):
        decoded = enc.decode_embeddings(texts, fmt)
        assert decoded == one_by_one
        assert all(type(row) is list for row in decoded)
        assert len({id(row) for row in decoded}) == len(decoded)  # no row shared
    assert enc.decode_embeddings(iter(texts), "base64") == one_by_one  # any iterable
    # Fewer rows than the young-generation threshold are made one by one; with the threshold
    # lowered (or the collector off), the other way: the same rows either way.
    assert enc.decode_embeddings(texts[:10], "base64") == one_by_one[:10]
    saved = gc.get_threshold()
    try:
        gc.set_threshold(3)
        assert enc.decode_embeddings(texts[:10], "base64") == one_by_one[:10]
        gc.disable()
        assert enc.decode_embeddings(texts, "base64") == one_by_one
    finally:
        gc.enable()
        gc.set_threshold(*saved)
    # A bad value among good ones: the error decode_embedding gives for it.
    for bad, error in (("not base64!", ValueError), ("AAA=", ValueError), (None, TypeError),
                       ([0.5], TypeError)):
        mixed = [*texts[:5], bad, *texts[5:]]
        with pytest.raises(error) as raised:
            enc.decode_embedding(bad, "base64")
        with pytest.raises(error, match=re.escape(str(raised.value))):
            enc.decode_embeddings(mixed, "base64")
    # Without a format, strings and arrays mixed: each value by its shape, arrays as sent.
    floats = [0.5, 1.0]
    mixed_shapes = enc.decode_embeddings([texts[1], floats], None)
    assert mixed_shapes[0] == one_by_one[1] and mixed_shapes[1] is floats
    assert enc.decode_embeddings([], "no such format") == []  # as before: nothing to decode
