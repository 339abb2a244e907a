"""Embedding vectors in every `encoding_format`: encode (servers) and decode (clients).

Standard library only: decoding gives lists of numbers or, more compactly, array.array
(`decode_embedding_array`); NumPy is optional and imported on first use by
`decode_embedding_numpy`. The wire forms:

- ``float``: a JSON array of numbers.
- ``base64``: little-endian float32 bytes, base64-encoded (the OpenAI convention).
- ``int8``: each value ``v`` as ``clamp(round(v * 127), -128, 127)``.
- ``uint8``: each value ``v`` as ``clamp(round((v + 1) * 127.5), 0, 255)``.
- ``ubinary``: one bit per value (1 when ``v > 0``), packed 8 per byte, most significant
  bit first, sent as integers 0..255 (``ceil(n / 8)`` of them).
- ``binary``: the same bytes as ``ubinary``, sent as signed integers (``byte - 128``).
"""

from __future__ import annotations

import array
import base64
import binascii
import importlib
import sys
import typing as _t
from collections.abc import Iterable, Sequence

ENCODING_FORMATS: _t.Final = ("float", "base64", "int8", "uint8", "binary", "ubinary")
"""The encoding formats this module encodes and decodes."""

_BIG_ENDIAN: _t.Final = sys.byteorder == "big"


# ---- speed helpers -------------------------------------------------------------------------
# This module's shortcuts, each kept because `make bench BENCH_ARGS="--only helpers"` shows it
# matters (it times each against the plain way on the same answer); the rest is plain.


def _base64_bytes(value: object) -> bytes:
    """The bytes of a base64 embedding, checked strictly.

    binascii.a2b_base64(strict_mode=True) is what base64.b64decode(value, validate=True)
    does without its Python wrapper, which also runs a regular expression over the text
    first. `make bench BENCH_ARGS="--only helpers"` (medians, load 2.7 on 2 cores): a
    256 x 1,024 base64 answer to float32 arrays takes 9.8 ms with it, 10.5 ms with b64decode
    (to lists 18.3 ms against 18.5 ms; best of 15 at load 3.9: 6.4 against 9.6 ms).
    """
    if not isinstance(value, str):
        raise TypeError(f"a base64 embedding must be a string, got {type(value).__name__}")
    try:
        raw = binascii.a2b_base64(value, strict_mode=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid base64 embedding: {exc}") from None
    if len(raw) % 4:
        raise ValueError(f"a base64 embedding must hold whole float32 values, got {len(raw)} bytes")
    return raw


_PLAIN_INT: _t.Final = frozenset((int,))


def _all_ints_within(numbers: Sequence[_t.Any], low: int, high: int) -> bool:
    """Whether every number is a plain int in low..high, found by C loops (the set of types,
    min, max) with no Python code per value; when not, the caller walks the values to name
    the offending one. `make bench BENCH_ARGS="--only helpers"` (medians, load 2.7 on 2
    cores): a 256 x 1,024 int8 answer to lists takes 71 ms with it, 83 ms with the loop
    alone.
    """
    if not numbers:
        return True
    return (
        _PLAIN_INT.issuperset(map(type, numbers)) and low <= min(numbers) and max(numbers) <= high
    )


# Byte value -> its 8 bits as 8 bytes of 0 or 1, most significant first. Made from each
# byte's binary digits ("00000101" -> 0,0,0,0,0,1,0,1): 0.06 ms at import, where shifting
# out each bit took 0.4 ms.
_DIGIT_VALUES: _t.Final = bytes.maketrans(b"01", b"\x00\x01")
_BITS: _t.Final = tuple(f"{byte:08b}".encode().translate(_DIGIT_VALUES) for byte in range(256))


def _unpack_bits(packed: Iterable[int]) -> bytes:
    """Packed bytes -> their bits, one byte (0 or 1) each: one table lookup a byte and one
    join, instead of shifting out each bit. `make bench BENCH_ARGS="--only helpers"`
    (medians, load 2.7 on 2 cores): a 256 x 1,024-bit ubinary answer to bits takes 17 ms
    with it, 48 ms bit by bit.
    """
    return b"".join([_BITS[byte] for byte in packed])


# ---- encodings -----------------------------------------------------------------------------


def _format_name(encoding_format: object) -> str:
    """The plain string of a format given as a string or as an enum member."""
    name = getattr(encoding_format, "value", encoding_format)
    if not isinstance(name, str) or name not in ENCODING_FORMATS:
        raise ValueError(
            f"unsupported encoding_format {name!r}: supported are {', '.join(ENCODING_FORMATS)}"
        )
    return name


def _pack_bits(values: Sequence[float]) -> list[int]:
    out: list[int] = []
    for start in range(0, len(values), 8):
        chunk = values[start : start + 8]
        byte = 0
        for value in chunk:
            byte = (byte << 1) | (1 if value > 0 else 0)
        out.append(byte << (8 - len(chunk)))
    return out


def _float32_bytes(values: Sequence[float]) -> bytes:
    packed = array.array("f", values)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def encode_embedding(
    values: Sequence[float], encoding_format: str
) -> list[float] | list[int] | str:
    """One embedding vector in its wire form for `encoding_format` (see the module docstring).

    Raises ValueError for a format not in ENCODING_FORMATS.
    """
    name = _format_name(encoding_format)
    if name == "float":
        return [float(v) for v in values]
    if name == "base64":
        return base64.b64encode(_float32_bytes(values)).decode("ascii")
    if name == "int8":
        return [max(-128, min(127, round(v * 127))) for v in values]
    if name == "uint8":
        return [max(0, min(255, round((v + 1) * 127.5))) for v in values]
    packed = _pack_bits(values)
    if name == "ubinary":
        return packed
    return [byte - 128 for byte in packed]


def _base64_floats(value: object) -> array.array[float]:
    floats = array.array("f")
    floats.frombytes(_base64_bytes(value))
    if _BIG_ENDIAN:
        floats.byteswap()
    return floats


def _numbers(value: object, name: str) -> Sequence[_t.Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"a {name} embedding must be an array of numbers, got {type(value).__name__}"
        )
    return value


_INTEGER_RANGES: _t.Final = {
    "int8": (-128, 127),
    "binary": (-128, 127),
    "uint8": (0, 255),
    "ubinary": (0, 255),
}


def _integers(value: object, name: str) -> Sequence[int]:
    """The numbers of an int8, uint8, binary or ubinary embedding, each checked to be an
    integer in the format's range (ValueError otherwise), as plain ints."""
    numbers = _numbers(value, name)
    low, high = _INTEGER_RANGES[name]
    if _all_ints_within(numbers, low, high):
        return numbers
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise ValueError(f"a {name} embedding holds integers {low}..{high}, got {number!r}")
    return [int(number) for number in numbers]


def _packed_bytes(value: object, name: str) -> list[int]:
    numbers = _integers(value, name)
    return [number + 128 for number in numbers] if name == "binary" else list(numbers)


def _as_list(numbers: Sequence[_t.Any]) -> list[_t.Any]:
    return numbers if type(numbers) is list else list(numbers)


def _unpacked_bits(value: object, name: str, dimensions: int | None) -> bytes:
    """The bits of a binary or ubinary embedding, one byte (0 or 1) each, without the padding
    past `dimensions`."""
    bits = _unpack_bits(_packed_bytes(value, name))
    return bits if dimensions is None else bits[:dimensions]


def _infer(value: object, encoding_format: str | None) -> str:
    """The format named, or else the one the value's shape tells: a string is base64, an
    array is taken as sent (as float, which keeps int8 and uint8 integers as they are)."""
    if encoding_format is not None:
        return _format_name(encoding_format)
    return "base64" if isinstance(value, str) else "float"


def decode_embedding(
    value: Sequence[float] | Sequence[int] | str,
    encoding_format: str | None = None,
    *,
    dimensions: int | None = None,
) -> list[float] | list[int]:
    """The numbers of one embedding as the service sent it in `encoding_format`.

    float and base64 give floats (float keeps a JSON integer such as 0 as the int it is,
    which is a valid float); int8 and uint8 give the integers as sent; binary and
    ubinary give the unpacked bits (0 or 1), 8 per byte. Packed bits are padded to a whole
    byte: pass `dimensions` to drop the padding. Without `encoding_format`, a string is read
    as base64 and an array is returned as sent (packed bits stay packed: name the format to
    unpack them). Raises ValueError for an unknown format or, for int8, uint8, binary and
    ubinary, a value that is not an integer in the format's range (300 in int8, 1.9);
    TypeError for a value of the wrong shape.

    A list returned as sent (float, int8, uint8) is that list itself, not a copy, as the
    official SDKs give it: copy it before changing it in place if the model must not change.
    """
    if encoding_format is None:
        if isinstance(value, str):
            return _base64_floats(value).tolist()
        return _as_list(_numbers(value, "float"))
    name = _format_name(encoding_format)
    if name == "base64":
        return _base64_floats(value).tolist()
    if name == "float":
        # The numbers as sent: a JSON integer such as 0 already is a valid float (int is
        # accepted wherever float is). Neither converting nor copying them: on a large answer
        # either costs more than all the rest of the client's own work on it.
        return _as_list(_numbers(value, name))
    if name in ("int8", "uint8"):
        return _as_list(_integers(value, name))
    return list(_unpacked_bits(value, name, dimensions))


def decode_embeddings(
    values: Iterable[Sequence[float] | Sequence[int] | str],
    encoding_format: str | None = None,
    *,
    dimensions: int | None = None,
) -> list[list[float] | list[int]]:
    """decode_embedding for each of `values`, in order."""
    items = values if type(values) is list else list(values)
    if items and (
        _format_name(encoding_format) == "base64"
        if encoding_format is not None
        else all(type(v) is str for v in items)
    ):
        return _t.cast("list[list[float] | list[int]]", _base64_rows(items))
    return [decode_embedding(v, encoding_format, dimensions=dimensions) for v in items]


def _base64_rows(values: list[_t.Any]) -> list[list[float]]:
    """Base64 embeddings as lists of floats; when there are many, made so that no GC pass
    reads their floats.

    Each new list counts towards CPython's young-generation threshold (700 new containers).
    Made one by one, 1,024 lists of 1,024 new floats are sure to cross it while full, and that
    pass reads every float made so far: ~6 ms of ~42 for 1,024 x 1,024 values. So as many
    rows as the threshold or more are made empty first (a pass then finds them empty) and
    filled after, which makes no container. Fewer rows are each made by tolist() at once:
    filling a list through an iterator costs ~7 ns a float more, which a pass that may not
    come does not repay (bench/run.py --only client, 256 x 1,024: 0.91x raw httpx that way,
    1.07x when every answer was filled).
    """
    import gc  # a builtin module: loaded here, not at the client's import

    threshold = gc.get_threshold()[0]
    if len(values) < threshold or threshold <= 0 or not gc.isenabled():
        return [_base64_floats(value).tolist() for value in values]
    rows: list[list[float]] = [[] for _ in values]
    for row, value in zip(rows, values):
        row.extend(_base64_floats(value))
    return rows


def decode_embedding_array(
    value: Sequence[float] | Sequence[int] | str,
    encoding_format: str | None = None,
    *,
    dimensions: int | None = None,
) -> array.array[float] | array.array[int]:
    """As decode_embedding, as a compact array.array without NumPy: float32 (typecode "f")
    for float and base64, "b" for int8, "B" for uint8 and for the bits (0 or 1) of binary
    and ubinary; without `encoding_format`, an array as sent becomes float32.

    An array.array takes 4 bytes a float32 value where a list of Python floats takes about
    32, supports indexing, slicing and iteration, and hands its buffer to NumPy
    (`numpy.frombuffer(v, dtype=numpy.float32)`) and vector stores without a copy. A base64
    answer decodes straight into it, skipping one Python float object per value. Numbers
    beyond float32's range become inf, as NumPy's float32 does. Raises ValueError and
    TypeError as decode_embedding does.
    """
    name = _infer(value, encoding_format)
    if name == "base64":
        return _base64_floats(value)
    if name == "float":
        return array.array("f", _numbers(value, name))
    if name in ("int8", "uint8"):
        return array.array("b" if name == "int8" else "B", _integers(value, name))
    return array.array("B", _unpacked_bits(value, name, dimensions))


def decode_embeddings_array(
    values: Iterable[Sequence[float] | Sequence[int] | str],
    encoding_format: str | None = None,
    *,
    dimensions: int | None = None,
) -> list[array.array[float] | array.array[int]]:
    """decode_embedding_array for each of `values`, in order."""
    return [decode_embedding_array(v, encoding_format, dimensions=dimensions) for v in values]


def _numpy() -> _t.Any:
    try:
        # Through importlib, so that type checkers pass with or without NumPy installed.
        numpy: _t.Any = importlib.import_module("numpy")
    except ImportError as exc:
        raise ImportError(
            "decode_embedding_numpy needs NumPy (pip install numpy); decode_embedding "
            "gives the same numbers as Python lists without it"
        ) from exc
    return numpy


def decode_embedding_numpy(
    value: Sequence[float] | Sequence[int] | str,
    encoding_format: str | None = None,
    *,
    dimensions: int | None = None,
) -> _t.Any:
    """As decode_embedding, as a numpy.ndarray: float32 for float and base64, int8 or uint8
    as named, uint8 bits (0 or 1) for binary and ubinary; without `encoding_format`, an
    array as sent becomes float32.

    Raises ValueError and TypeError as decode_embedding does. NumPy is optional: raises
    ImportError with an explanation when it is not installed.
    """
    numpy = _numpy()
    name = _infer(value, encoding_format)
    if name == "base64":
        return numpy.frombuffer(_base64_bytes(value), dtype="<f4").astype(numpy.float32)
    if name == "float":
        return numpy.asarray(_numbers(value, name), dtype=numpy.float32)
    if name in ("int8", "uint8"):
        return numpy.asarray(_integers(value, name), dtype=getattr(numpy, name))
    packed = numpy.asarray(_packed_bytes(value, name), dtype=numpy.uint8)
    bits = numpy.unpackbits(packed)
    return bits if dimensions is None else bits[:dimensions]


def decode_embeddings_numpy(
    values: Iterable[Sequence[float] | Sequence[int] | str],
    encoding_format: str | None = None,
    *,
    dimensions: int | None = None,
) -> _t.Any:
    """decode_embedding_numpy for each of `values`, stacked into one 2-D numpy.ndarray
    (one row per embedding; they must have the same length)."""
    numpy = _numpy()
    rows = [decode_embedding_numpy(v, encoding_format, dimensions=dimensions) for v in values]
    return numpy.stack(rows) if rows else numpy.empty((0, 0), dtype=numpy.float32)


#: The formats whose numbers are floats, and those whose numbers are integers: the helpers'
#: return types follow the format named (an int is a valid float, so the floats' lists hold
#: a JSON integer as sent).
FloatFormat: _t.TypeAlias = _t.Literal["float", "base64"]
IntegerFormat: _t.TypeAlias = _t.Literal["int8", "uint8", "binary", "ubinary"]


class EmbeddingVector:
    """vector(), vector_array() and vector_numpy() of a model holding one embedding; the
    generated model says where it is (`_embedding_value`)."""

    __slots__ = ()

    def _embedding_value(self) -> Sequence[float] | Sequence[int] | str:
        """The model's embedding field: every generated model with this mix-in overrides it."""
        raise NotImplementedError  # a hook, not a missing feature

    @_t.overload
    def vector(
        self, encoding_format: FloatFormat | None = None, *, dimensions: int | None = None
    ) -> list[float]: ...

    @_t.overload
    def vector(
        self, encoding_format: IntegerFormat, *, dimensions: int | None = None
    ) -> list[int]: ...

    @_t.overload
    def vector(
        self, encoding_format: str, *, dimensions: int | None = None
    ) -> list[float] | list[int]: ...

    def vector(
        self, encoding_format: str | None = None, *, dimensions: int | None = None
    ) -> list[float] | list[int]:
        """This item's embedding as numbers: floats for float and base64, integers for int8
        and uint8, unpacked bits (0/1) for binary and ubinary.

        Pass the `encoding_format` the request asked for; without it a string is read as
        base64 and an array is returned as sent. `dimensions` drops the padding of packed
        bits. A list returned as sent is the item's own, not a copy.
        """
        return decode_embedding(self._embedding_value(), encoding_format, dimensions=dimensions)

    @_t.overload
    def vector_array(
        self, encoding_format: FloatFormat | None = None, *, dimensions: int | None = None
    ) -> array.array[float]: ...

    @_t.overload
    def vector_array(
        self, encoding_format: IntegerFormat, *, dimensions: int | None = None
    ) -> array.array[int]: ...

    @_t.overload
    def vector_array(
        self, encoding_format: str, *, dimensions: int | None = None
    ) -> array.array[float] | array.array[int]: ...

    def vector_array(
        self, encoding_format: str | None = None, *, dimensions: int | None = None
    ) -> array.array[float] | array.array[int]:
        """As vector(), as a compact array.array: float32 for float and base64 (4 bytes a
        value instead of a Python float's 32; a base64 answer decodes straight into it),
        int8/uint8 as named, bits as uint8."""
        return decode_embedding_array(
            self._embedding_value(), encoding_format, dimensions=dimensions
        )

    def vector_numpy(
        self, encoding_format: str | None = None, *, dimensions: int | None = None
    ) -> _t.Any:
        """As vector(), as a numpy.ndarray (NumPy is optional: ImportError without it)."""
        return decode_embedding_numpy(
            self._embedding_value(), encoding_format, dimensions=dimensions
        )


class EmbeddingVectors:
    """vectors(), vectors_array() and vectors_numpy() of a model holding a list of items with
    one embedding each; the generated model says where they are (`_embedding_values`)."""

    __slots__ = ()

    def _embedding_values(self) -> list[Sequence[float] | Sequence[int] | str]:
        """The items' embedding fields: every generated model with this mix-in overrides it."""
        raise NotImplementedError  # a hook, not a missing feature

    @_t.overload
    def vectors(
        self, encoding_format: FloatFormat | None = None, *, dimensions: int | None = None
    ) -> list[list[float]]: ...

    @_t.overload
    def vectors(
        self, encoding_format: IntegerFormat, *, dimensions: int | None = None
    ) -> list[list[int]]: ...

    @_t.overload
    def vectors(
        self, encoding_format: str, *, dimensions: int | None = None
    ) -> list[list[float]] | list[list[int]]: ...

    def vectors(
        self, encoding_format: str | None = None, *, dimensions: int | None = None
    ) -> list[list[float]] | list[list[int]]:
        """Every item's embedding as numbers, in order (see EmbeddingVector.vector for
        `encoding_format` and `dimensions`)."""
        return _t.cast(
            "list[list[float]] | list[list[int]]",
            decode_embeddings(self._embedding_values(), encoding_format, dimensions=dimensions),
        )

    @_t.overload
    def vectors_array(
        self, encoding_format: FloatFormat | None = None, *, dimensions: int | None = None
    ) -> list[array.array[float]]: ...

    @_t.overload
    def vectors_array(
        self, encoding_format: IntegerFormat, *, dimensions: int | None = None
    ) -> list[array.array[int]]: ...

    @_t.overload
    def vectors_array(
        self, encoding_format: str, *, dimensions: int | None = None
    ) -> list[array.array[float]] | list[array.array[int]]: ...

    def vectors_array(
        self, encoding_format: str | None = None, *, dimensions: int | None = None
    ) -> list[array.array[float]] | list[array.array[int]]:
        """As vectors(), as compact array.array rows (see EmbeddingVector.vector_array)."""
        return _t.cast(
            "list[array.array[float]] | list[array.array[int]]",
            decode_embeddings_array(
                self._embedding_values(), encoding_format, dimensions=dimensions
            ),
        )

    def vectors_numpy(
        self, encoding_format: str | None = None, *, dimensions: int | None = None
    ) -> _t.Any:
        """As vectors(), as one 2-D numpy.ndarray, a row per item (NumPy is optional:
        ImportError without it)."""
        return decode_embeddings_numpy(
            self._embedding_values(), encoding_format, dimensions=dimensions
        )


__all__ = [
    "ENCODING_FORMATS",
    "EmbeddingVector",
    "EmbeddingVectors",
    "FloatFormat",
    "IntegerFormat",
    "decode_embedding",
    "decode_embedding_array",
    "decode_embedding_numpy",
    "decode_embeddings",
    "decode_embeddings_array",
    "decode_embeddings_numpy",
    "encode_embedding",
]
