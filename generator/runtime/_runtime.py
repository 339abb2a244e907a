"""Runtime helpers of this package: the NOT_GIVEN sentinel, the model base class and the
codecs that turn JSON into typed models (and check it) and back.

Rendered into the package so that it vendors without any shared runtime.
"""

from __future__ import annotations

import enum
import math
import re
import reprlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self

if TYPE_CHECKING:
    import dataclasses


class NotGiven:
    """The type of NOT_GIVEN: a field or argument that is absent, as opposed to null (None)."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()


class FieldError:
    """One problem in a JSON document, at a path such as `input[0].image` ("" is the whole).
    Immutable, compared and hashed by its path and message.

    Written out rather than a frozen dataclass, as every class the client imports: building
    dataclasses costs ~0.35 ms each at import (see Model)."""

    __slots__ = ("_message", "_path")

    def __init__(self, path: str, message: str) -> None:
        self._path = path
        self._message = message

    @property
    def path(self) -> str:
        return self._path

    @property
    def message(self) -> str:
        return self._message

    def __eq__(self, other: object) -> bool:
        if type(other) is not FieldError:
            return NotImplemented
        return (self._path, self._message) == (other._path, other._message)

    def __hash__(self) -> int:
        return hash((self._path, self._message))

    def __repr__(self) -> str:
        return f"FieldError(path={self._path!r}, message={self._message!r})"

    def __str__(self) -> str:
        return f"{self._path or '(root)'}: {self._message}"


class ValidationError(ValueError):
    """A JSON document does not match its schema; `errors` lists every problem found (the
    first `max_errors` of them when validate() was given a cap: then `truncated` is True)."""

    def __init__(self, what: str, errors: list[FieldError], truncated: bool = False) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        self.truncated = truncated
        shown = "; ".join(str(e) for e in self.errors[:10])
        more = f" (and {len(self.errors) - 10} more)" if len(self.errors) > 10 else ""
        if truncated:
            more += " (more errors not shown)"
        super().__init__(f"invalid {what}: {shown}{more}")


class _ErrorLimitReached(Exception):
    """One more problem than a capped error list takes: the check stops walking there."""


class _CappedErrors(list[FieldError]):
    """An error list that raises _ErrorLimitReached instead of growing past `limit`."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def append(self, error: FieldError, /) -> None:
        if len(self) >= self.limit:
            raise _ErrorLimitReached
        super().append(error)


def join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key.isascii() and key.isidentifier():  # [A-Za-z_][A-Za-z0-9_]*, with no regex to compile
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


# ---- speed helpers -------------------------------------------------------------------------
# This module's shortcuts, each kept because `make bench BENCH_ARGS="--only helpers"` shows it
# matters (it times each against the plain way on the same answer); the rest is plain.

_NUMBER_TYPES: Final[frozenset[type]] = frozenset((int, float))
_STRING_TYPES: Final[frozenset[type]] = frozenset((str,))
_JSON_SCALAR_TYPES: Final[frozenset[type]] = frozenset((str, int, float, bool, type(None)))


def _all_plain(values: list[Any] | tuple[Any, ...], types: frozenset[type], strict: bool) -> bool:
    """Whether every item of `values` is of one of `types`, found by C loops with no Python
    code per item; when not, the caller takes each item through its codec (which also says
    where a problem is). Embedding vectors hold from a thousand to millions of numbers.

    Not strict (a client reading an answer, numbers only): sum() runs over numbers only and
    raises at anything else (strings, null, arrays, objects); a boolean counts as the number
    it is. Strict (validation, encoding) checks the exact types.

    `make bench BENCH_ARGS="--only helpers"` (medians, load 2.7 on 2 cores): the client
    section's 256 x 1,024 float answer to lists (json + model + vectors) takes 82 ms with
    it, 249 ms item by item; the server's strict check of that answer 10 ms against 184 ms;
    encoding it 9.2 ms against 191 ms.
    """
    if strict or types is not _NUMBER_TYPES:
        return types.issuperset(map(type, values))
    try:
        sum(values, 0.0)
    except (TypeError, OverflowError):
        return False
    return True


def _decode_in_place(
    items: Codec, values: list[Any], path: str, errors: list[FieldError], strict: bool
) -> list[Any]:
    """The items of an owned list (parsed for this decode alone) decoded into that same list,
    each model without an empty additional_properties dict (Model.__getattr__ makes it on
    first use): a decoded answer then keeps no more containers alive than its JSON did.

    Why it matters: CPython's cyclic GC makes a young-generation pass once 700 new
    containers are alive, and a pass walks every container made since the last one.
    json.loads of the client section's 256 x 1,024 float answer leaves ~520 alive (the 256
    vectors among them) and the HTTP layer ~100: a new list of models with a dict each (two
    per item, the parsed item dicts still held) pushed every call past 700, and its pass
    walked the 262,144 floats just parsed. Here each model replaces the item dict it came
    from, which is freed: the count stays near where json.loads left it, as for raw httpx
    (CPython's free list keeps the first 80 freed dicts uncounted).

    `make bench BENCH_ARGS="--only helpers"` (medians, GC on, load 3.6-4.3 on 2 cores): that
    answer to lists takes 115 ms with it, 123 ms with a new list of models; to float32 arrays
    120 ms against 146 ms (base64 answers: no difference, their pass walks no floats). The
    client section counts 0.36 GC passes per float call with it, 1.00 without (raw httpx
    0.04).
    """
    for index, value in enumerate(values):
        decoded = items.decode(value, f"{path}[{index}]", errors, strict, True)
        if isinstance(decoded, Model) and not decoded.additional_properties:
            object.__delattr__(decoded, "additional_properties")
        values[index] = decoded
    return values


def _variants_for(union: UnionCodec, value: Any) -> tuple[Codec, ...]:
    """The variants of `union` that may take `value`, in order, found by one dict lookup on
    its JSON type: the others would only fail (an embedding's `list[float] | str` no longer
    makes and drops an "expected an array" error for every base64 item). A variant whose
    types cannot be told (a recursive type, a union) is kept for every type, and a value of
    another type (a str subclass, a tuple) is offered to every variant, as before.

    `make bench BENCH_ARGS="--only helpers"` (medians of 15, load 1.7 on 2 cores): the client
    section's 256 x 1,024 base64 answer, json + model, 1.64 ms with it, 1.79 ms trying each
    variant in order; that answer to lists 10.40 against 10.49 ms.
    """
    by_json_type = union._by_json_type
    if by_json_type is None:
        types_of = [_json_types_of(variant) for variant in union.variants]
        by_json_type = union._by_json_type = {
            json_type: tuple(
                variant
                for variant, types in zip(union.variants, types_of)
                if types is None or json_type in types
            )
            for json_type in (str, int, float, bool, type(None), list, dict)
        }
    return by_json_type.get(type(value), union.variants)


# ---- codecs ------------------------------------------------------------------------------
# decode(value, path, errors, strict, owned) returns the typed value and appends every problem
# to `errors`. strict=True is validation (the server's view of a request); strict=False is the
# tolerant reading of a response: values outside a closed enum are kept as they came.
# owned=True: `value` was parsed for this decode alone (a client's answer), so its lists may
# be filled with the decoded items in place (_decode_in_place) instead of copied.


class Codec:
    """Accepts any JSON value as it is; the base of every other codec."""

    __slots__ = ()

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        return value

    def dump(self, value: Any, path: str, errors: list[FieldError]) -> Any:
        """`value` as a service builds it (models, enum members, lists) as plain JSON data,
        checked strictly against this codec in the same walk: every way it does not fit is
        appended to `errors`. What encode() then a strict decode() would find, without
        building a second tree of models. A scalar is checked as its JSON value."""
        plain = encode(value)
        self.decode(plain, path, errors, True)
        return plain


ANY: Final = Codec()


class StringCodec(Codec):
    __slots__ = ("max_length", "min_length", "pattern")

    def __init__(
        self,
        *,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
    ) -> None:
        self.min_length = min_length
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern is not None else None

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        if not isinstance(value, str):
            errors.append(FieldError(path, f"expected a string, got {_kind(value)}"))
        elif self.min_length is not None and len(value) < self.min_length:
            errors.append(FieldError(path, f"must have at least {self.min_length} characters"))
        elif self.max_length is not None and len(value) > self.max_length:
            errors.append(FieldError(path, f"must have at most {self.max_length} characters"))
        elif self.pattern is not None and not self.pattern.search(value):
            errors.append(FieldError(path, f"must match the pattern {self.pattern.pattern!r}"))
        return value


_INT_RANGES: Final = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class NumberCodec(Codec):
    __slots__ = (
        "exclusive_maximum",
        "exclusive_minimum",
        "format",
        "integer",
        "maximum",
        "minimum",
    )

    def __init__(
        self,
        *,
        integer: bool = False,
        format: str | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: float | None = None,
        exclusive_maximum: float | None = None,
    ) -> None:
        self.integer = integer
        self.format = format
        self.minimum = minimum
        self.maximum = maximum
        self.exclusive_minimum = exclusive_minimum
        self.exclusive_maximum = exclusive_maximum

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            expected = "an integer" if self.integer else "a number"
            errors.append(FieldError(path, f"expected {expected}, got {_kind(value)}"))
            return value
        if isinstance(value, float) and not math.isfinite(value):
            errors.append(FieldError(path, "must be a finite number"))
            return value
        if self.integer and isinstance(value, float):
            if not value.is_integer():
                errors.append(FieldError(path, "expected an integer, got a fraction"))
                return value
            value = int(value)
        limits = _INT_RANGES.get(self.format or "") if self.integer else None
        if limits is not None and not limits[0] <= value <= limits[1]:
            errors.append(FieldError(path, f"out of the {self.format} range"))
        elif self.minimum is not None and value < self.minimum:
            errors.append(FieldError(path, f"must be at least {self.minimum}"))
        elif self.maximum is not None and value > self.maximum:
            errors.append(FieldError(path, f"must be at most {self.maximum}"))
        elif self.exclusive_minimum is not None and value <= self.exclusive_minimum:
            errors.append(FieldError(path, f"must be more than {self.exclusive_minimum}"))
        elif self.exclusive_maximum is not None and value >= self.exclusive_maximum:
            errors.append(FieldError(path, f"must be less than {self.exclusive_maximum}"))
        return value


class BooleanCodec(Codec):
    __slots__ = ()

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        if not isinstance(value, bool):
            errors.append(FieldError(path, f"expected a boolean, got {_kind(value)}"))
        return value


class NullCodec(Codec):
    __slots__ = ()

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        if value is not None:
            errors.append(FieldError(path, f"expected null, got {_kind(value)}"))
        return value


class NullableCodec(Codec):
    __slots__ = ("inner",)

    def __init__(self, inner: Codec) -> None:
        self.inner = inner

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        if value is None:
            return None
        return self.inner.decode(value, path, errors, strict, owned)

    def dump(self, value: Any, path: str, errors: list[FieldError]) -> Any:
        if value is None:
            return None
        return self.inner.dump(value, path, errors)


class LiteralCodec(Codec):
    """A closed set of values written inline in the spec."""

    __slots__ = ("values",)

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        # The same type too: True is not taken for 1, nor 1 for 1.0.
        for allowed_value in self.values:
            if type(allowed_value) is type(value) and allowed_value == value:
                return value
        if strict or _kind(value) not in {_kind(v) for v in self.values}:
            allowed = ", ".join(repr(v) for v in self.values)
            errors.append(FieldError(path, f"must be one of {allowed}, got {value!r}"[:300]))
        return value


class EnumCodec(Codec):
    """A named enumeration; an open one also takes values that this version does not list."""

    __slots__ = ("enum_type", "open", "value_type")

    def __init__(self, enum_type: type[enum.Enum], *, open: bool) -> None:
        self.enum_type = enum_type
        self.open = open
        self.value_type = str if issubclass(enum_type, str) else int

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        if type(value) is not self.value_type:
            kind = "a string" if self.value_type is str else "an integer"
            errors.append(FieldError(path, f"expected {kind}, got {_kind(value)}"))
            return value
        try:
            return self.enum_type(value)
        except ValueError:
            if strict and not self.open:
                allowed = ", ".join(repr(m.value) for m in self.enum_type)
                errors.append(FieldError(path, f"must be one of {allowed}, got {value!r}"[:300]))
            return value

    def dump(self, value: Any, path: str, errors: list[FieldError]) -> Any:
        if isinstance(value, self.enum_type):
            return value.value
        return super().dump(value, path, errors)


class ArrayCodec(Codec):
    __slots__ = ("_plain_types", "items", "max_items", "min_items")

    def __init__(
        self, items: Codec, *, min_items: int | None = None, max_items: int | None = None
    ) -> None:
        self.items = items
        self.min_items = min_items
        self.max_items = max_items
        # Items without a constraint of their own (embedding vectors, lists of texts) are
        # checked all at once by _all_plain; any other goes through its codec.
        self._plain_types: frozenset[type] | None = None
        if type(items) is NumberCodec and not items.integer:
            bounds = (
                items.minimum,
                items.maximum,
                items.exclusive_minimum,
                items.exclusive_maximum,
            )
            self._plain_types = _NUMBER_TYPES if bounds == (None, None, None, None) else None
        elif type(items) is StringCodec:
            limits = (items.min_length, items.max_length, items.pattern)
            self._plain_types = _STRING_TYPES if limits == (None, None, None) else None

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        if not isinstance(value, list):
            errors.append(FieldError(path, f"expected an array, got {_kind(value)}"))
            return value
        if self.min_items is not None and len(value) < self.min_items:
            errors.append(FieldError(path, f"must have at least {self.min_items} items"))
        if self.max_items is not None and len(value) > self.max_items:
            errors.append(FieldError(path, f"must have at most {self.max_items} items"))
        if self._plain_types is not None and _all_plain(value, self._plain_types, strict):
            return value
        if owned:
            return _decode_in_place(self.items, value, path, errors, strict)
        items = self.items
        return [items.decode(v, f"{path}[{i}]", errors, strict) for i, v in enumerate(value)]

    def dump(self, value: Any, path: str, errors: list[FieldError]) -> Any:
        if not isinstance(value, (list, tuple)):
            return super().dump(value, path, errors)
        if self.min_items is not None and len(value) < self.min_items:
            errors.append(FieldError(path, f"must have at least {self.min_items} items"))
        if self.max_items is not None and len(value) > self.max_items:
            errors.append(FieldError(path, f"must have at most {self.max_items} items"))
        plain = self._plain_types
        # Numbers must also be finite: a NaN is a float, and JSON cannot carry it (a sum
        # that overflows is left to the items' check).
        if (
            plain is not None
            and _all_plain(value, plain, True)
            and (plain is not _NUMBER_TYPES or _finite_sum(value))
        ):
            return list(value)
        items = self.items
        return [items.dump(v, f"{path}[{i}]", errors) for i, v in enumerate(value)]


def _finite_sum(numbers: list[Any] | tuple[Any, ...]) -> bool:
    try:
        return math.isfinite(sum(numbers, 0.0))
    except OverflowError:  # an int too large for a float
        return False


class MapCodec(Codec):
    __slots__ = ("values",)

    def __init__(self, values: Codec) -> None:
        self.values = values

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        if not isinstance(value, dict):
            errors.append(FieldError(path, f"expected an object, got {_kind(value)}"))
            return value
        codec = self.values
        return {
            k: codec.decode(v, join_path(path, k), errors, strict, owned) for k, v in value.items()
        }

    def dump(self, value: Any, path: str, errors: list[FieldError]) -> Any:
        if not isinstance(value, Mapping):
            return super().dump(value, path, errors)
        codec = self.values
        return {str(k): codec.dump(v, join_path(path, str(k)), errors) for k, v in value.items()}


class UnionCodec(Codec):
    """The first variant that takes the value wins; with a discriminator, the one it names."""

    __slots__ = ("_by_json_type", "discriminator", "mapping", "variants")

    def __init__(
        self,
        variants: tuple[Codec, ...],
        *,
        discriminator: str | None = None,
        mapping: Mapping[str, Codec] | None = None,
    ) -> None:
        self.variants = variants
        self.discriminator = discriminator
        self.mapping = dict(mapping or {})
        self._by_json_type: dict[type, tuple[Codec, ...]] | None = None

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        if self.discriminator is not None and isinstance(value, dict):
            tag = value.get(self.discriminator)
            if isinstance(tag, str) and tag in self.mapping:
                return self.mapping[tag].decode(value, path, errors, strict, owned)
        count = len(errors)
        for variant in _variants_for(self, value):
            try:
                # Not owned: a variant that fails must leave the value as it came for the next.
                result = variant.decode(value, path, errors, strict)
            except _ErrorLimitReached:  # a capped list is full: this variant fails anyway
                del errors[count:]
                continue
            if len(errors) == count:
                return result
            del errors[count:]  # this variant's problems: the next one may take the value
        errors.append(FieldError(path, f"does not match any allowed type (got {_kind(value)})"))
        return value

    def dump(self, value: Any, path: str, errors: list[FieldError]) -> Any:
        if self.discriminator is not None and isinstance(value, (Model, Mapping)):
            tag = _property(value, self.discriminator)
            if isinstance(tag, enum.Enum):
                tag = tag.value
            if isinstance(tag, str) and tag in self.mapping:
                return self.mapping[tag].dump(value, path, errors)
        count = len(errors)
        for variant in self.variants:
            try:
                result = variant.dump(value, path, errors)
            except _ErrorLimitReached:
                del errors[count:]
                continue
            if len(errors) == count:
                return result
            del errors[count:]
        plain = encode(value)
        errors.append(FieldError(path, f"does not match any allowed type (got {_kind(plain)})"))
        return plain


class LazyCodec(Codec):
    """Stands for a codec defined later in the module (recursive types)."""

    __slots__ = ("_codec", "_get")

    def __init__(self, get: Callable[[], Codec]) -> None:
        self._get = get
        self._codec: Codec | None = None

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        if self._codec is None:
            self._codec = self._get()
        return self._codec.decode(value, path, errors, strict, owned)

    def dump(self, value: Any, path: str, errors: list[FieldError]) -> Any:
        if self._codec is None:
            self._codec = self._get()
        return self._codec.dump(value, path, errors)


class ModelCodec(Codec):
    __slots__ = ("_get", "_model")

    def __init__(self, get: Callable[[], type[Model]]) -> None:
        self._get = get
        self._model: type[Model] | None = None

    def decode(
        self, value: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        model = self._model
        if model is None:
            model = self._model = self._get()
        return model._decode(value, path, errors, strict, owned)

    def dump(self, value: Any, path: str, errors: list[FieldError]) -> Any:
        model = self._model
        if model is None:
            model = self._model = self._get()
        if isinstance(value, model):
            return value._dump(path, errors)
        # Another model, or a dict: its JSON, checked as validate() would.
        plain = encode(value)
        model._decode(plain, path, errors, True)
        return plain


def decode_answer(codec: Codec, data: Any, what: str, *, owned: bool = False) -> Any:
    """A response body read with its codec (tolerantly, as from_dict reads a model); raises
    ValidationError listing every problem. `owned`: `data` was parsed for this call alone and
    is not used again (its lists may be reused for the result, see _decode_in_place)."""
    errors: list[FieldError] = []
    result = codec.decode(data, "", errors, False, owned)
    if errors:
        raise ValidationError(what, errors)
    return result


# ---- models ------------------------------------------------------------------------------


class Field:
    """One JSON property of a model: its wire name, its attribute, its codec."""

    __slots__ = ("attr", "codec", "required", "wire")

    wire: str
    attr: str
    codec: Codec
    required: bool

    def __init__(self, wire: str, attr: str, codec: Codec, required: bool) -> None:
        self.wire = wire
        self.attr = attr
        self.codec = codec
        self.required = required


class _DataclassFields:
    """A generated model's `__dataclass_fields__`, made at first use: dataclasses.fields(),
    replace(), asdict() and is_dataclass() take models as they did when models were
    dataclasses, and no dataclass is built at import. The fields are those of a dataclass
    with the model's annotations and its `__init__`'s defaults (keyword-only)."""

    def __get__(self, instance: object, owner: type[Model]) -> dict[str, dataclasses.Field[Any]]:
        import dataclasses

        init = owner.__dict__.get("__init__") if "_attrs" in owner.__dict__ else None
        defaults = getattr(init, "__kwdefaults__", None)
        if defaults is None:  # Model itself, or a class that is not a generated model
            raise AttributeError("__dataclass_fields__")
        namespace: dict[str, Any] = {
            "__annotations__": {a: owner.__annotations__[a] for a in owner._attrs},
            "__module__": owner.__module__,
            "__qualname__": owner.__qualname__,
        }
        for attr in owner._attrs:
            if attr == "additional_properties":
                namespace[attr] = dataclasses.field(default_factory=dict)
            elif attr in defaults:
                namespace[attr] = defaults[attr]
        shadow: type[Any] = dataclasses.dataclass(kw_only=True)(type(owner.__name__, (), namespace))
        fields: dict[str, dataclasses.Field[Any]] = shadow.__dataclass_fields__
        owner.__dataclass_fields__ = fields  # found first from now on
        return fields


class Model:
    """Base of every generated model: a slotted class with a table of its JSON fields.

    Round trips keep what this version does not know: properties the spec does not name
    (in `additional_properties`) and enum values it does not list. Absent is NOT_GIVEN,
    which differs from null (None).

    A generated model writes its own `__slots__` and keyword-only `__init__`, and takes
    equality and repr from here (what a slotted, keyword-only dataclass would give): no class
    is built at import. Building a dataclass costs ~0.35 ms a class, and was half of what
    importing the client cost beyond `import httpx` (`make bench BENCH_ARGS="--only import"`).
    """

    __slots__ = ()
    _fields: ClassVar[tuple[Field, ...]] = ()
    _wire_names: ClassVar[frozenset[str]] = frozenset()
    _additional: ClassVar[Codec | None] = ANY  # None: unknown properties are not allowed
    #: The attributes that equality and repr read, in order (the fields', then
    #: additional_properties).
    _attrs: ClassVar[tuple[str, ...]] = ("additional_properties",)
    additional_properties: dict[str, Any]
    __match_args__: ClassVar[tuple[str, ...]] = ()  # keyword patterns only, as keyword-only init
    if TYPE_CHECKING:
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    else:
        __dataclass_fields__ = _DataclassFields()

    @classmethod
    def _set_fields(cls, fields: tuple[Field, ...], additional: Codec | None) -> None:
        cls._fields = fields
        cls._wire_names = frozenset(f.wire for f in fields)
        cls._additional = additional
        cls._attrs = (*(f.attr for f in fields), "additional_properties")

    def __eq__(self, other: object) -> bool:
        # Compared as tuples, so an object equals itself even where it does not (NaN).
        if type(other) is not type(self):
            return NotImplemented
        return tuple(getattr(self, a) for a in self._attrs) == tuple(
            getattr(other, a) for a in self._attrs
        )

    # Mutable, so not hashable (as a dataclass that compares by value).
    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{a}={getattr(self, a)!r}" for a in self._attrs)
        return f"{type(self).__qualname__}({shown})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read a JSON object as sent by the service; raises ValidationError if it does not fit."""
        errors: list[FieldError] = []
        result = cls._decode(data, "", errors, False)
        if errors:
            raise ValidationError(cls.__name__, errors)
        return result  # type: ignore[no-any-return]

    @classmethod
    def validate(cls, data: Any, *, max_errors: int | None = None) -> Self:
        """Check a JSON value strictly against the schema; ValidationError lists every problem,
        or with `max_errors`, stops at that many (its `truncated` says whether more exist)."""
        made = _model_as_it_came(cls, data)
        if made is not None:
            return made  # type: ignore[no-any-return]
        if max_errors is None:
            errors: list[FieldError] = []
            result = cls._decode(data, "", errors, True)
        else:
            errors = _CappedErrors(max(1, max_errors))
            try:
                result = cls._decode(data, "", errors, True)
            except _ErrorLimitReached:
                raise ValidationError(cls.__name__, errors, truncated=True) from None
        if errors:
            raise ValidationError(cls.__name__, errors)
        return result  # type: ignore[no-any-return]

    if not TYPE_CHECKING:  # type checkers see the declared attributes only

        def __getattr__(self, name: str) -> Any:
            # Only an unset slot gets here: the additional_properties of a model that
            # _decode_in_place decoded without unknown properties, made on first use.
            if name != "additional_properties":
                raise AttributeError(
                    f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self
                )
            extra: dict[str, Any] = {}
            object.__setattr__(self, name, extra)
            return extra

    @classmethod
    def _decode(
        cls, data: Any, path: str, errors: list[FieldError], strict: bool, owned: bool = False
    ) -> Any:
        if not isinstance(data, Mapping):
            errors.append(FieldError(path, f"expected an object, got {_kind(data)}"))
            return data
        count = len(errors)
        values: dict[str, Any] = {}
        for field in cls._fields:
            if field.wire in data:
                at = join_path(path, field.wire)
                values[field.attr] = field.codec.decode(data[field.wire], at, errors, strict, owned)
            elif field.required:
                errors.append(FieldError(join_path(path, field.wire), "is required"))
        extra: dict[str, Any] = {}
        additional = cls._additional
        # Every property a field's (the usual answer): no unknown ones to look for.
        for key, value in data.items() if len(values) < len(data) else ():
            if key in cls._wire_names:
                continue
            if additional is None:
                if strict:
                    errors.append(FieldError(join_path(path, key), "is not a known property"))
                extra[key] = value
            elif additional is ANY:
                extra[key] = value
            else:
                extra[key] = additional.decode(value, join_path(path, key), errors, strict, owned)
        if len(errors) > count:
            return data
        construct: Callable[..., Any] = cls  # the generated keyword-only __init__
        return construct(**values, additional_properties=extra)

    def checked_dict(self, *, max_errors: int | None = None) -> dict[str, Any]:
        """to_dict(), checked strictly against the schema in the same walk (what
        `validate(self.to_dict())` checks, without building the models again; also NaN and
        infinities in number lists, which JSON cannot carry); raises ValidationError as
        validate() does (with `max_errors`, stops at that many)."""
        errors: list[FieldError] = [] if max_errors is None else _CappedErrors(max(1, max_errors))
        try:
            out = self._dump("", errors)
        except _ErrorLimitReached:
            raise ValidationError(type(self).__name__, errors, truncated=True) from None
        if errors:
            raise ValidationError(type(self).__name__, errors)
        return out

    def _dump(self, path: str, errors: list[FieldError]) -> dict[str, Any]:
        as_they_are = _fields_as_they_are(self)
        if as_they_are is not None:
            return as_they_are
        cls = type(self)
        out: dict[str, Any] = {}
        for field in cls._fields:
            value = getattr(self, field.attr)
            if value is NOT_GIVEN:
                if field.required:
                    errors.append(FieldError(join_path(path, field.wire), "is required"))
                continue
            out[field.wire] = field.codec.dump(value, join_path(path, field.wire), errors)
        for key, value in self.additional_properties.items():
            if key in out:
                continue
            plain = encode(value)
            where = join_path(path, key)
            if key in cls._wire_names:  # a field's value, kept among the unknown ones
                known = next(f for f in cls._fields if f.wire == key)
                known.codec.decode(plain, where, errors, True)
            elif cls._additional is None:
                errors.append(FieldError(where, "is not a known property"))
            elif cls._additional is not ANY:
                cls._additional.decode(plain, where, errors, True)
            out[key] = plain
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: absent fields left out, null kept, unknown properties kept."""
        out: dict[str, Any] = {}
        for field in self._fields:
            value = getattr(self, field.attr)
            if value is not NOT_GIVEN:
                out[field.wire] = encode(value)
        if self.additional_properties:
            for key, value in self.additional_properties.items():
                if key not in out:
                    out[key] = encode(value)
        return out


# ---- the server's speed helper ----------------------------------------------------------
# The result check of a server's answer (Model.checked_dict), measured where it matters.

_AS_IS_TYPES: Final = 1  # a value of one of these exact types
_AS_IS_RANGE: Final = 2  # an int within these bounds
_AS_IS_LITERAL: Final = 3  # one of these (type, value) pairs
_AS_IS_VECTOR: Final = 4  # a list of finite ints and floats (or a value of these types)
_AS_IS_MODEL: Final = 5  # a model of this ModelCodec's class, itself passing as it is
_AS_IS_MODELS: Final = 6  # a list of such models
_AS_IS_NUMBER: Final = 7  # an int, or a finite float
_AS_IS: dict[type[Model], tuple[tuple[str, str, bool, int, Any], ...] | None] = {}


class AnswerTooBig(Exception):
    """_fields_as_they_are met more values than its budget: an answer for a worker thread."""


def _fields_as_they_are(value: Model, budget: list[int] | None = None) -> dict[str, Any] | None:
    """A model's JSON when each field holds a value that its strict check passes as it is
    (a plain string, an int within its format's range, one of a literal's values, a list of
    finite numbers, a model or a list of models that pass so), found with no codec call;
    None otherwise: the caller then checks field by field, which also says where a problem
    is. An embeddings answer is such a model, with its items and usage.

    `budget`, when given, is a one-item list: how many more values (list items) the walk
    may meet, counted down before each list is walked; past it, AnswerTooBig, so that the
    caller can hand a big answer to a worker thread without having walked it first.

    `python bench/helpers.py` (load 2.9-3.1 on 2 cores): the server benchmark's 4 x 16
    answer is checked and written (small_answer) in 10 us with it, 34 us field by field (and
    its size found by a walk of its own); its result check alone (checked_dict) takes 7 us
    against 28; the client section's 256 x 1,024 float answer's, 9.9 ms against 12.5 ms.
    """
    checks = _AS_IS.get(type(value), ())
    if checks == ():
        checks = _AS_IS[type(value)] = _as_is_checks(type(value))
    if checks is None or value.additional_properties:
        return None
    return _walked(value, checks, budget)


def _walked(
    value: Model, checks: tuple[tuple[str, str, bool, int, Any], ...], budget: list[int] | None
) -> dict[str, Any] | None:
    """_fields_as_they_are's walk of one model, its checks found."""
    out: dict[str, Any] = {}
    for wire, attr, required, kind, arg in checks:
        item = getattr(value, attr)
        seen = type(item)
        # The kinds of a list item (an embedding) first: the walk meets them once an item.
        if kind == _AS_IS_RANGE:
            passes = seen is int and arg[0] <= item <= arg[1]
        elif kind == _AS_IS_LITERAL:
            passes = seen in _JSON_SCALAR_TYPES and (seen, item) in arg
        elif kind == _AS_IS_VECTOR:
            if seen is list:
                if budget is not None:
                    budget[0] -= len(item)
                    if budget[0] < 0:
                        raise AnswerTooBig
                # _all_plain (strict) and _finite_sum, without their two calls per vector.
                try:
                    passes = _NUMBER_TYPES.issuperset(map(type, item)) and math.isfinite(
                        sum(item, 0.0)
                    )
                except OverflowError:  # an int too large for a float: the plain walk
                    passes = False
            else:
                passes = arg is not None and seen in arg
        elif kind == _AS_IS_TYPES:
            passes = seen in arg
        elif kind == _AS_IS_NUMBER:
            passes = seen is int or (seen is float and math.isfinite(item))
        elif kind == _AS_IS_MODEL:
            written = _fields_as_they_are(item, budget) if seen is _model_of(arg) else None
            passes = written is not None
            item = written
        elif seen is list:  # _AS_IS_MODELS
            if budget is not None:
                budget[0] -= len(item)
                if budget[0] < 0:
                    raise AnswerTooBig
            # A list of one class's models: its checks found once, not once per item.
            model = _model_of(arg)
            item_checks = _AS_IS.get(model, ())
            if item_checks == ():
                item_checks = _AS_IS[model] = _as_is_checks(model)
            if item_checks is None:
                return None
            items = []
            for element in item:
                if type(element) is not model or element.additional_properties:
                    return None
                written = _walked(element, item_checks, budget)
                if written is None:
                    return None
                items.append(written)
            passes, item = True, items
        else:
            passes = False
        if passes:
            out[wire] = item
        elif getattr(value, attr) is not NOT_GIVEN or required:
            return None
    return out


def _model_of(codec: ModelCodec) -> type[Model]:
    if codec._model is None:
        codec._model = codec._get()
    return codec._model


def _as_is_checks(model: type[Model]) -> tuple[tuple[str, str, bool, int, Any], ...] | None:
    """For each field of `model`, how _fields_as_they_are tells a value its check passes as
    it is; None when a field has no such test (a model, an enum, constraints)."""
    checks = []
    for field in model._fields:
        check = _as_is_check(field.codec)
        if check is None:
            return None
        checks.append((field.wire, field.attr, field.required, *check))
    return tuple(checks)


def _as_is_check(codec: Codec) -> tuple[int, Any] | None:
    kind = type(codec)
    if kind is StringCodec:
        assert isinstance(codec, StringCodec)
        if (codec.min_length, codec.max_length, codec.pattern) == (None, None, None):
            return _AS_IS_TYPES, _STRING_TYPES
    elif kind is BooleanCodec:
        return _AS_IS_TYPES, frozenset((bool,))
    elif kind is NumberCodec:
        assert isinstance(codec, NumberCodec)
        bounds = (codec.minimum, codec.maximum, codec.exclusive_minimum, codec.exclusive_maximum)
        if bounds == (None, None, None, None):
            if not codec.integer:
                return _AS_IS_NUMBER, None
            return _AS_IS_RANGE, _INT_RANGES.get(codec.format or "", (-math.inf, math.inf))
    elif kind is LiteralCodec:
        assert isinstance(codec, LiteralCodec)
        try:
            return _AS_IS_LITERAL, frozenset((type(v), v) for v in codec.values)
        except TypeError:  # an array or object among the values
            return None
    elif kind is NullableCodec:
        assert isinstance(codec, NullableCodec)
        inner = _as_is_check(codec.inner)
        if inner is not None and inner[0] == _AS_IS_TYPES:
            return _AS_IS_TYPES, inner[1] | {type(None)}
    elif kind is ModelCodec:
        return _AS_IS_MODEL, codec
    elif kind is ArrayCodec:
        assert isinstance(codec, ArrayCodec)
        if (codec.min_items, codec.max_items) != (None, None):
            return None
        if codec._plain_types is _NUMBER_TYPES:
            return _AS_IS_VECTOR, None
        if type(codec.items) is ModelCodec:
            return _AS_IS_MODELS, codec.items
    elif kind is UnionCodec:
        assert isinstance(codec, UnionCodec)
        # Every variant that takes a list writes it as it is: a vector variant decides; a
        # plain string variant passes a string (a base64 vector).
        checks = [_as_is_check(v) for v in codec.variants]
        if codec.discriminator is None and (_AS_IS_VECTOR, None) in checks:
            strings = (_AS_IS_TYPES, _STRING_TYPES) in checks
            return _AS_IS_VECTOR, _STRING_TYPES if strings else None
    return None


def _property(value: Model | Mapping[str, Any], wire: str) -> Any:
    """The property `wire` of a model or mapping (None when absent)."""
    if isinstance(value, Model):
        for f in value._fields:
            if f.wire == wire:
                found = getattr(value, f.attr)
                return None if found is NOT_GIVEN else found
        return value.additional_properties.get(wire)
    return value.get(wire)


def encode(value: Any) -> Any:
    """A typed value -> plain JSON data."""
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        if _all_plain(value, _JSON_SCALAR_TYPES, strict=True):
            return list(value)
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    return value


# ---- the server's request-side speed helper ---------------------------------------------
# A request body's strict check (Model.validate), measured where it matters.

_CAME_TYPES: Final = 1  # a value of one of these exact types
_CAME_RANGE: Final = 2  # an int within these bounds
_CAME_NUMBER: Final = 3  # an int, or a finite float
_CAME_LITERAL: Final = 4  # one of these (type, value) pairs
_CAME_ENUM: Final = 5  # a value of the enum's type: its member (an open enum: any such value)
_CAME_NULLABLE: Final = 6  # None, or what this check takes
_CAME_PLAIN_LIST: Final = 7  # a list whose items are all of these exact types
_CAME_LIST: Final = 8  # a list whose items this check takes, each
_CAME_MODEL: Final = 9  # an object that this model takes as it came
_CAME_UNION: Final = 10  # JSON type -> the check of the first variant taking that type
_CAME_ANY: Final = 11  # anything
#: What _value_as_it_came answers when it cannot tell (the plain walk then says).
_UNTOLD: Final = object()
#: (wire name, attribute, required, check) for each field of a model.
_CameChecks = tuple[tuple[str, str, bool, tuple[int, Any]], ...]
_CAME: dict[type[Model], _CameChecks | None] = {}
_ENUM_MISSING: Final = getattr(enum.Enum._missing_, "__func__", None)


def _model_as_it_came(model: type[Model], data: Any) -> Any:
    """`model` built from `data` (parsed JSON) when every value passes its strict check as it
    came (a plain string, an int within its format's range, a known enum value, a list of
    strings, ...), found with no codec call and no error list; None otherwise: validate() then
    walks field by field, which also says where a problem is. An embeddings request is such
    an object. What it builds is what the plain walk builds: the same values, enum members
    for known enum values, unknown properties kept.

    `python bench/helpers.py` (load 1.2-1.5 on 2 cores): the check (validate) of the server
    benchmark's request body takes 2.2 us with it, 5.6 us field by field.
    """
    checks = _CAME.get(model, ())
    if checks == ():
        checks = _CAME[model] = _came_checks(model)
    if checks is None or type(data) is not dict:
        return None
    try:
        made = _made_as_it_came(model, checks, data)
    except RecursionError:  # nested too deeply: the plain walk says so
        return None
    return None if made is _UNTOLD else made


def _made_as_it_came(model: type[Model], checks: _CameChecks, data: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for wire, attr, required, check in checks:
        if wire in data:
            value = data[wire]
            if check[0] != _CAME_TYPES or type(value) not in check[1]:  # a string: taken here
                value = _value_as_it_came(check, value)
                if value is _UNTOLD:
                    return _UNTOLD
            values[attr] = value
        elif required:
            return _UNTOLD
    extra: dict[str, Any] = {}
    if len(values) < len(data):
        additional = model._additional
        if additional is not ANY:  # refused (strict), or checked by a codec: the plain walk
            return _UNTOLD
        names = model._wire_names
        extra = {key: value for key, value in data.items() if key not in names}
    construct: Callable[..., Any] = model  # the generated dataclass __init__
    return construct(**values, additional_properties=extra)


def _value_as_it_came(check: tuple[int, Any], value: Any) -> Any:
    """`value` as its codec's strict decode() makes it, when that passes; else _UNTOLD."""
    kind, arg = check
    seen = type(value)
    if kind == _CAME_TYPES:
        return value if seen in arg else _UNTOLD
    if kind == _CAME_RANGE:
        return value if seen is int and arg[0] <= value <= arg[1] else _UNTOLD
    if kind == _CAME_NUMBER:
        return value if seen is int or (seen is float and math.isfinite(value)) else _UNTOLD
    if kind == _CAME_LITERAL:
        return value if seen in _JSON_SCALAR_TYPES and (seen, value) in arg else _UNTOLD
    if kind == _CAME_ENUM:
        value_type, members, is_open = arg
        if seen is not value_type:
            return _UNTOLD
        member = members.get(value)
        if member is not None:
            return member
        return value if is_open else _UNTOLD
    if kind == _CAME_NULLABLE:
        return None if value is None else _value_as_it_came(arg, value)
    if kind == _CAME_PLAIN_LIST:
        types, low, high = arg
        if seen is list and low <= len(value) <= high and _all_plain(value, types, True):
            return value
        return _UNTOLD
    if kind == _CAME_LIST:
        items, low, high = arg
        if seen is not list or not low <= len(value) <= high:
            return _UNTOLD
        made = []
        for item in value:
            item = _value_as_it_came(items, item)
            if item is _UNTOLD:
                return _UNTOLD
            made.append(item)
        return made
    if kind == _CAME_MODEL:
        if seen is not dict:
            return _UNTOLD
        nested = _model_of(arg)
        checks = _CAME.get(nested, ())
        if checks == ():
            checks = _CAME[nested] = _came_checks(nested)
        return _UNTOLD if checks is None else _made_as_it_came(nested, checks, value)
    if kind == _CAME_UNION:
        variant = arg.get(seen)  # the first variant that can take a value of this JSON type
        return _UNTOLD if variant is None else _value_as_it_came(variant, value)
    return value  # _CAME_ANY


def _came_checks(model: type[Model]) -> _CameChecks | None:
    """For each field of `model`, how _model_as_it_came tells that a value passes as it came;
    None when a field has no such test (a constraint, a discriminated union, a map, a
    recursive type)."""
    checks = []
    for field in model._fields:
        check = _came_check(field.codec)
        if check is None:
            return None
        checks.append((field.wire, field.attr, field.required, check))
    return tuple(checks)


def _came_check(codec: Codec) -> tuple[int, Any] | None:
    kind = type(codec)
    if kind is Codec:
        return _CAME_ANY, None
    if kind is NullableCodec:
        assert isinstance(codec, NullableCodec)
        inner = _came_check(codec.inner)
        return None if inner is None else (_CAME_NULLABLE, inner)
    if kind is ModelCodec:
        return _CAME_MODEL, codec
    if kind is EnumCodec:
        assert isinstance(codec, EnumCodec)
        enum_type = codec.enum_type
        if getattr(enum_type._missing_, "__func__", 0) is not _ENUM_MISSING:
            return None  # the enum finds members its own way
        return _CAME_ENUM, (codec.value_type, dict(enum_type._value2member_map_), codec.open)
    if kind is ArrayCodec:
        assert isinstance(codec, ArrayCodec)
        low = codec.min_items if codec.min_items is not None else 0
        high = codec.max_items if codec.max_items is not None else math.inf
        if codec._plain_types is not None:
            return _CAME_PLAIN_LIST, (codec._plain_types, low, high)
        items = _came_check(codec.items)
        return None if items is None else (_CAME_LIST, (items, low, high))
    if kind is UnionCodec:
        assert isinstance(codec, UnionCodec)
        if codec.discriminator is not None:
            return None
        first: dict[type, tuple[int, Any]] = {}
        for variant in codec.variants:
            check, types = _came_check(variant), _json_types_of(variant)
            if check is None or types is None:
                return None
            for json_type in types:
                first.setdefault(json_type, check)
        return _CAME_UNION, first
    if kind is StringCodec:
        assert isinstance(codec, StringCodec)
        if (codec.min_length, codec.max_length, codec.pattern) == (None, None, None):
            return _CAME_TYPES, _STRING_TYPES
    elif kind is BooleanCodec:
        return _CAME_TYPES, frozenset((bool,))
    elif kind is NumberCodec:
        assert isinstance(codec, NumberCodec)
        bounds = (codec.minimum, codec.maximum, codec.exclusive_minimum, codec.exclusive_maximum)
        if bounds == (None, None, None, None):
            if not codec.integer:
                return _CAME_NUMBER, None
            return _CAME_RANGE, _INT_RANGES.get(codec.format or "", (-math.inf, math.inf))
    elif kind is LiteralCodec:
        assert isinstance(codec, LiteralCodec)
        try:
            return _CAME_LITERAL, frozenset((type(v), v) for v in codec.values)
        except TypeError:  # an array or object among the values
            return None
    return None  # constraints, a map, a discriminated union, a recursive type


def _json_types_of(codec: Codec) -> frozenset[type] | None:
    """The JSON types of the values `codec` can take at all: any other fails its decode()."""
    kind = type(codec)
    if kind is StringCodec:
        return frozenset((str,))
    if kind is NumberCodec:
        return frozenset((int, float))
    if kind is BooleanCodec:
        return frozenset((bool,))
    if kind is NullCodec:
        return frozenset((type(None),))
    if kind is ArrayCodec:
        return frozenset((list,))
    if kind is ModelCodec or kind is MapCodec:
        return frozenset((dict,))
    if kind is EnumCodec:
        assert isinstance(codec, EnumCodec)
        return frozenset((codec.value_type,))
    if kind is LiteralCodec:
        assert isinstance(codec, LiteralCodec)
        return frozenset(map(type, codec.values))
    if kind is NullableCodec:
        assert isinstance(codec, NullableCodec)
        inner = _json_types_of(codec.inner)
        return None if inner is None else inner | {type(None)}
    return None  # anything else (a union, any value): not told apart
