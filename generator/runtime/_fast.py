"""The server's optional fast paths: msgspec (a C library), when installed, checks a small
answer and writes its JSON in C (answer_json), and parses and checks a request body in C
(body_model); without it, nothing here runs and both go the plain way
(_answer.small_answer: _runtime._fields_as_they_are, then orjson or the standard library;
_asgi._read_json: orjson or the standard library, then Model.validate).

Why: in process, the result check's walk and the writing of the server benchmark's 4 x 16
answer cost ~9 us of the generated app's ~27 us per request, and reading and checking its
body ~3 us, within ~2 us of what pure Python can do (one attribute read or dict lookup and
one type test per field). msgspec does the same tests in C, with struct types built at first
use from the very tables the plain ways use (_runtime._as_is_checks, _runtime._came_checks),
per model class; `bench/helpers.py` times both sides against the plain ways.

Either side may only ever take less than the plain way, never more, and make the same thing.
The answer: the same JSON value (the same keys in the same order, ints as ints, the same
floats). With orjson installed, orjson writes it, as it writes the plain way's: the same bytes
(msgspec writes 1e16 where orjson writes 1e+16), and sooner: 16 x 1,024 floats written in
432 us, to_builtins included, against msgspec's 660 (2.9 against 3.1 for the server
benchmark's 4 x 16). An int past 64 bits, which orjson refuses, is left to msgspec.
answer_json steps aside (returns None: the plain check decides, and says what is wrong and
where) whenever msgspec refuses a value, and before calling msgspec wherever msgspec would
take what the plain check refuses, or would write it otherwise:
- a model of another class, a subclass or a dict where a model belongs (msgspec reads any
  object's attributes, or a dict's keys);
- a set where a list belongs (msgspec takes it), or a tuple (the plain walk takes it; not
  worth a second spelling here);
- a str subclass or an enum member where a literal belongs (msgspec compares its text; the
  plain check wants the exact type, or an enum's value);
- a class with an optional field (NOT_GIVEN is no msgspec value), a field kind the walk
  itself does not take as it is (constraints, enums, maps, discriminated unions), a literal
  other than strings and ints, a recursive class;
- an answer holding more than its budget of list items (counted first, as the walk does:
  a big answer is for a worker thread, see _answer).
Unknown properties are refused by msgspec itself (each struct has an `additional_properties`
field that must be an empty dict, left out of the JSON). Known to differ, left as it is: an
enum member whose text differs from its value (only a custom __new__ makes one) is written
by its text (a str or int field) where the plain way writes its value.
The request body: the same model as _runtime._model_as_it_came builds (the same values, enum
members for known enum values, NOT_GIVEN for absent fields); body_model steps aside for
unknown properties (the extra-parameters modes decide them), for a value that a later union
variant must take, and for anything msgspec refuses (not UTF-8, not JSON, a lone surrogate,
a number where an int belongs, ...): every 400 is the plain way's.
Standard library only, msgspec optional.
"""

from __future__ import annotations

import importlib
import sys
import typing as _t
from operator import attrgetter

from . import _runtime as _rt


def _import_msgspec() -> _t.Any:
    try:
        return importlib.import_module("msgspec")
    except ImportError:
        return None


def _import_orjson() -> _t.Any:
    try:
        return importlib.import_module("orjson")
    except ImportError:
        return None


_msgspec = _import_msgspec()
_ENCODER: _t.Any = _msgspec.json.Encoder() if _msgspec is not None else None
#: orjson, when installed: it writes the answers here, and _answer and _asgi take it from here
#: (this module imports neither of them, so both may import it).
_orjson = _import_orjson()

# How _fits tests a field (and _all_fit a column: one field across the models of a list).
_EXACT: _t.Final = 1  # each value of one of these exact types (a literal)
_LISTS: _t.Final = 2  # each value of these types, its list items counted (a vector)
_MODEL: _t.Final = 3  # each value a model of exactly this class, itself fitting
_MODELS: _t.Final = 4  # each value a list of such models, its items counted

#: (a field's attribute read, how it is tested, with what)
_Column = tuple[_t.Callable[[_t.Any], _t.Any], int, _t.Any]


class _Plan:
    """How answer_json takes the models of one class: its msgspec struct type, and the
    fields to test before msgspec sees them."""

    __slots__ = ("columns", "struct")

    def __init__(self, struct: _t.Any, columns: tuple[_Column, ...]) -> None:
        self.struct = struct
        self.columns = columns


#: Per model class: its plan, or None when answer_json leaves that class to the plain way.
_PLANS: dict[type[_rt.Model], _Plan | None] = {}


def answer_json(result: _rt.Model, budget: int) -> bytes | None:
    """`result`'s JSON, checked, when msgspec is installed, the result's class has a plan, it
    holds no more than `budget` list items, and msgspec takes it; None otherwise (the plain
    check then decides)."""
    if _msgspec is None:
        return None
    plan = _PLANS.get(type(result), _NO_PLAN_YET)
    if plan is _NO_PLAN_YET:
        plan = _plan_of(type(result))
    if plan is None:
        return None
    left = [budget]
    try:
        if not _fits(result, plan, left):
            return None
        struct = _msgspec.convert(result, plan.struct, from_attributes=True)  # strict
        if _orjson is not None:
            try:
                return _orjson.dumps(_msgspec.to_builtins(struct))  # type: ignore[no-any-return]
            except TypeError:  # an int past 64 bits, which msgspec writes
                pass
        return _ENCODER.encode(struct)  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - refused (ValidationError), a lone surrogate, ...
        return None


_NO_PLAN_YET: _t.Final[_t.Any] = object()


def _fits(value: _t.Any, plan: _Plan, left: list[int]) -> bool:
    """Whether the values of the model `value` (of the plan's class) are ones that msgspec
    checks and writes as the plain check does, and its lists hold no more items than `left`
    (counted down)."""
    for getter, how, arg in plan.columns:
        field = getter(value)
        seen = type(field)
        if how == _EXACT:
            if seen not in arg:
                return False
        elif how == _LISTS:
            if seen not in arg:
                return False
            if seen is list:
                left[0] -= len(field)
        elif how == _MODEL:
            if seen is not arg[0] or (arg[1].columns and not _fits(field, arg[1], left)):
                return False
        else:  # _MODELS
            if seen is not list:
                return False
            left[0] -= len(field)
            if field and (left[0] < 0 or not _all_fit(field, arg, left)):
                return False
        if left[0] < 0:
            return False
    return True


def _all_fit(models: list[_t.Any], model_plan: tuple[type, _Plan], left: list[int]) -> bool:
    """_fits for each of a list's models, which must all be of the plan's class: a field
    at a time across the models, each test a C loop over them (not a Python loop)."""
    model, plan = model_plan
    if {*map(type, models)} != {model}:
        return False
    for getter, how, arg in plan.columns:
        if how == _EXACT:
            if not arg.issuperset(map(type, map(getter, models))):
                return False
        elif how == _LISTS:
            try:
                # Counted and found to be lists in one go: list.__len__ takes nothing else.
                left[0] -= sum(map(_LIST_LENGTH, map(getter, models)))
            except TypeError:  # a string (a base64 vector), or a value that is no list
                column = list(map(getter, models))
                if not arg.issuperset(map(type, column)):
                    return False
                left[0] -= sum(len(value) for value in column if type(value) is list)
        else:
            column = list(map(getter, models))
            if how == _MODEL:
                if {*map(type, column)} != {arg[0]}:
                    return False
                if not all(_fits(value, arg[1], left) for value in column):
                    return False
            else:  # _MODELS
                left[0] -= sum(map(_LIST_LENGTH, column))  # TypeError: not all lists
                if left[0] < 0:
                    return False
                if not all(_all_fit(items, arg, left) for items in column if items):
                    return False
        if left[0] < 0:
            return False
    return True


_LIST_LENGTH: _t.Final = list.__len__


def _plan_of(model: type[_rt.Model]) -> _Plan | None:
    _PLANS[model] = None  # meanwhile: a class that holds itself gets no plan
    try:
        plan = _PLANS[model] = _new_plan(model)
    except Exception:  # noqa: BLE001 - a type msgspec does not take (a literal it cannot hold)
        plan = None
    return plan


def _new_plan(model: type[_rt.Model]) -> _Plan | None:
    msgspec = _msgspec
    checks = _rt._as_is_checks(model)
    if checks is None:
        return None
    fields: list[tuple[_t.Any, ...]] = []
    renamed: dict[str, str] = {}
    columns: list[_Column] = []
    for wire, attr, required, kind, arg in checks:
        if not required:
            return None
        getter = attrgetter(attr)
        if kind == _rt._AS_IS_TYPES:
            kind_of = _named_union(arg)
            if kind_of is None:
                return None
        elif kind == _rt._AS_IS_RANGE:
            kind_of = _int_within(*arg)
        elif kind == _rt._AS_IS_NUMBER:
            kind_of = _NUMBER
        elif kind == _rt._AS_IS_LITERAL:
            kind_of = _literal_of(arg)
            if kind_of is None:
                return None
            columns.append((getter, _EXACT, frozenset(type(value) for _, value in arg)))
        elif kind == _rt._AS_IS_VECTOR:
            kind_of = _LIST[_NUMBER]
            types: frozenset[type] = frozenset((list,))
            if arg is not None:  # also a string (base64)
                if arg != _rt._STRING_TYPES:
                    return None
                kind_of = _UNION[kind_of, str]
                types = frozenset((list, str))
            columns.append((getter, _LISTS, types))
        elif kind == _rt._AS_IS_MODEL or kind == _rt._AS_IS_MODELS:
            nested_model = _rt._model_of(arg)
            nested = _PLANS[nested_model] if nested_model in _PLANS else _plan_of(nested_model)
            if nested is None:
                return None
            kind_of = nested.struct
            if kind == _rt._AS_IS_MODELS:
                kind_of = _LIST[kind_of]
                columns.append((getter, _MODELS, (nested_model, nested)))
            else:
                columns.append((getter, _MODEL, (nested_model, nested)))
        else:
            return None
        fields.append((attr, kind_of))
        if wire != attr:
            renamed[attr] = wire
    # Unknown properties: an empty dict only, never written (omit_defaults).
    empty = _ANNOTATED[dict[str, _t.Any], msgspec.Meta(max_length=0)]
    fields.append(("additional_properties", empty, msgspec.field(default_factory=dict)))
    struct = msgspec.defstruct(
        f"{model.__name__}Answer",
        fields,
        rename=renamed or None,
        omit_defaults=True,
        gc=False,  # holds no cycles, lives for one answer
    )
    return _Plan(struct, tuple(columns))


def _named_union(types: frozenset[type]) -> _t.Any:
    """The msgspec type taking exactly the values of these exact types (str, bool, None);
    None for any other type."""
    if not types <= _NAMED.keys():
        return None
    return _UNION[tuple(_NAMED[t] for t in types)]


def _int_within(low: float, high: float) -> _t.Any:
    """The msgspec type of an int within [low, high] (a format's range, or none)."""
    if low == -_INFINITY and high == _INFINITY:
        return int
    return _ANNOTATED[int, _msgspec.Meta(ge=low, le=high)]


def _literal_of(pairs: frozenset[tuple[type, _t.Any]]) -> _t.Any:
    """The msgspec type of a literal's (type, value) pairs; None unless all are str or int."""
    values = tuple(value for _, value in pairs)
    if not {type(value) for value in values} <= {str, int}:
        return None
    return _LITERAL[values]


_INFINITY: _t.Final = float("inf")
_NAMED: _t.Final[dict[type, _t.Any]] = {str: str, bool: bool, type(None): None}
# The typing forms, as values: the struct types are built from the spec's data at run time.
_UNION: _t.Final[_t.Any] = _t.Union
_ANNOTATED: _t.Final[_t.Any] = _t.Annotated
_LITERAL: _t.Final[_t.Any] = _t.Literal
_LIST: _t.Final[_t.Any] = list


#: An int, or a finite float (the plain check refuses NaN and infinities, which msgspec would
#: write as null); the int first: an int stays an int (not 1.0).
_NUMBER: _t.Final[_t.Any] = (
    None
    if _msgspec is None
    else _UNION[
        int, _ANNOTATED[float, _msgspec.Meta(ge=-sys.float_info.max, le=sys.float_info.max)]
    ]
)


# ---- the request side ----------------------------------------------------------------------
# A request body parsed and checked by one typed msgspec decoder, when every value passes its
# strict check as it came (what _runtime._model_as_it_came takes from parsed JSON): the same
# tables (_runtime._came_checks), the same model built. Whatever msgspec refuses (unknown
# properties, a value another union variant must take, not UTF-8, not JSON, a lone
# surrogate, ...) goes the plain way, which also says what is wrong.

#: How a decoded value becomes the model's value (None: as it is).
_Make = _t.Callable[[_t.Any], _t.Any] | None
#: Per body model class: its decoder and how each field's decoded value is made, or None.
_BODIES: dict[
    type[_rt.Model], tuple[_t.Any, tuple[tuple[str, _t.Callable[[_t.Any], _t.Any]], ...]] | None
] = {}


class _NotTaken(Exception):
    """A decoded value that the plain way decides (a closed enum's unknown value)."""


def body_model(model: type[_rt.Model], raw: bytes) -> _t.Any:
    """`model` built from the request body `raw` when msgspec is installed, the model's class
    has a decoder, and msgspec and the checks as it came take the body; None otherwise (the
    plain way then parses and checks it). What it builds is what _model_as_it_came builds."""
    if _msgspec is None:
        return None
    plan = _BODIES.get(model, _NO_PLAN_YET)
    if plan is _NO_PLAN_YET:
        plan = _body_plan_of(model)
    if plan is None:
        return None
    decoder, makes = plan
    try:
        decoded = decoder.decode(raw)
        return _built(model, decoded, makes)
    except Exception:  # noqa: BLE001 - refused: the plain way decides
        return None


def _built(
    model: type[_rt.Model],
    decoded: _t.Any,
    makes: tuple[tuple[str, _t.Callable[[_t.Any], _t.Any]], ...],
) -> _t.Any:
    values = _ASDICT(decoded)
    for attr, make in makes:
        value = values[attr]
        if value is not _rt.NOT_GIVEN:
            values[attr] = make(value)
    construct: _t.Callable[..., _t.Any] = model  # the generated keyword-only __init__
    return construct(**values)


def _body_plan_of(model: type[_rt.Model]) -> _t.Any:
    _BODIES[model] = None  # meanwhile: a class that holds itself gets no decoder
    try:
        made = _body_struct(model)
        plan = None if made is None else (_msgspec.json.Decoder(made[0]), made[1])
    except Exception:  # noqa: BLE001 - a type msgspec does not take
        plan = None
    _BODIES[model] = plan
    return plan


_BODY_STRUCTS: dict[type[_rt.Model], _t.Any] = {}


def _body_struct(
    model: type[_rt.Model],
) -> tuple[_t.Any, tuple[tuple[str, _t.Callable[[_t.Any], _t.Any]], ...]] | None:
    """`model`'s msgspec struct type (unknown properties refused: the plain way keeps or
    refuses them) and how each field's decoded value becomes the model's; None when a
    field's check has no exact msgspec equivalent."""
    checks = _rt._came_checks(model)
    if checks is None:
        return None
    fields: list[tuple[_t.Any, ...]] = []
    renamed: dict[str, str] = {}
    makes: list[tuple[str, _t.Callable[[_t.Any], _t.Any]]] = []
    for wire, attr, required, check in checks:
        found = _came_type(check)
        if found is None:
            return None
        kind_of, make = found
        fields.append((attr, kind_of) if required else (attr, kind_of, _rt.NOT_GIVEN))
        if make is not None:
            makes.append((attr, make))
        if wire != attr:
            renamed[attr] = wire
    struct = _msgspec.defstruct(
        f"{model.__name__}Body",
        fields,
        rename=renamed or None,
        forbid_unknown_fields=True,
        gc=False,  # holds no cycles, lives for one request
    )
    return struct, tuple(makes)


def _came_type(check: tuple[int, _t.Any]) -> tuple[_t.Any, _Make] | None:
    """The msgspec type taking exactly the JSON values that `check` takes as they came, and
    how a decoded value becomes the model's; None when there is none."""
    kind, arg = check
    if kind == _rt._CAME_TYPES:
        named = _named_union(arg)
        return None if named is None else (named, None)
    if kind == _rt._CAME_RANGE:
        return _int_within(*arg), None
    if kind == _rt._CAME_NUMBER:
        return _UNION[int, float], None
    if kind == _rt._CAME_LITERAL:
        literal = _literal_of(arg)
        return None if literal is None else (literal, None)
    if kind == _rt._CAME_ENUM:
        value_type, members, is_open = arg
        return value_type, (_open_member(members) if is_open else _closed_member(members))
    if kind == _rt._CAME_NULLABLE:
        inner = _came_type(arg)
        if inner is None:
            return None
        inner_type, inner_make = inner
        make = None if inner_make is None else _unless_none(inner_make)
        return _UNION[inner_type, None], make
    if kind == _rt._CAME_PLAIN_LIST:
        types, low, high = arg
        if types == _rt._STRING_TYPES:
            item: _t.Any = str
        elif types == _rt._NUMBER_TYPES:
            item = _UNION[int, float]
        else:
            return None
        return _sized(_LIST[item], low, high), None
    if kind == _rt._CAME_LIST:
        items, low, high = arg
        inner = _came_type(items)
        if inner is None:
            return None
        item_type, item_make = inner
        make = None if item_make is None else _each(item_make)
        return _sized(_LIST[item_type], low, high), make
    if kind == _rt._CAME_MODEL:
        nested_model = _rt._model_of(arg)
        if nested_model in _BODY_STRUCTS:
            nested = _BODY_STRUCTS[nested_model]
        else:
            _BODY_STRUCTS[nested_model] = None  # meanwhile: no recursive classes
            nested = _BODY_STRUCTS[nested_model] = _body_struct(nested_model)
        if nested is None:
            return None
        struct, makes = nested
        return struct, _maker(nested_model, makes)
    if kind == _rt._CAME_UNION:
        # One variant per JSON type (the first that takes it), as _model_as_it_came; a value
        # that it refuses goes the plain way, which tries the others.
        variants: list[_t.Any] = []
        for variant_check in dict.fromkeys(arg.values()):
            found = _came_type(variant_check)
            if found is None or found[1] is not None:
                return None
            variants.append(found[0])
        return _UNION[tuple(variants)], None
    if kind == _rt._CAME_ANY:
        return _t.Any, None
    return None


def _sized(kind_of: _t.Any, low: int, high: float) -> _t.Any:
    if (low, high) == (0, _INFINITY):
        return kind_of
    if high == _INFINITY:
        return _ANNOTATED[kind_of, _msgspec.Meta(min_length=low)]
    return _ANNOTATED[kind_of, _msgspec.Meta(min_length=low, max_length=int(high))]


def _open_member(members: dict[_t.Any, _t.Any]) -> _t.Callable[[_t.Any], _t.Any]:
    return lambda value: members.get(value, value)


def _closed_member(members: dict[_t.Any, _t.Any]) -> _t.Callable[[_t.Any], _t.Any]:
    def member(value: _t.Any) -> _t.Any:
        found = members.get(value)
        if found is None:
            raise _NotTaken
        return found

    return member


def _unless_none(make: _t.Callable[[_t.Any], _t.Any]) -> _t.Callable[[_t.Any], _t.Any]:
    return lambda value: None if value is None else make(value)


def _each(make: _t.Callable[[_t.Any], _t.Any]) -> _t.Callable[[_t.Any], _t.Any]:
    return lambda values: [make(value) for value in values]


def _maker(
    model: type[_rt.Model], makes: tuple[tuple[str, _t.Callable[[_t.Any], _t.Any]], ...]
) -> _t.Callable[[_t.Any], _t.Any]:
    return lambda decoded: _built(model, decoded, makes)


_ASDICT: _t.Final[_t.Any] = None if _msgspec is None else _msgspec.structs.asdict
