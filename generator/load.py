"""Stage 1: read a spec file (YAML or JSON) and every file its `$ref`s reach.

Keeps, for every JSON pointer, the line and column it came from, so that every later
diagnostic can say where a problem sits.
"""

from __future__ import annotations

import bisect
import functools
import gc
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from generator.diagnostics import (
    Diagnostic,
    SpecError,
    escape_token,
    join_pointer,
    split_pointer,
    unescape_token,
)

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """YAML 1.1 with JSON's numbers: `1e0` and `7e-1` are numbers in JSON (and YAML 1.2),
    but strings to a YAML 1.1 resolver, which wants a dot in a float."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)$"),
    list("-+0123456789."))


class _MemoLoader(_Loader):
    """_Loader that resolves each distinct plain scalar's tag once per document.

    Performance: the resolver runs its regular expressions for every scalar (67,000 in a
    1,000-schema spec), most of them repeated keys. Without path resolvers (SafeLoader has
    none) the tag of an implicit scalar depends on its text alone, so the answer is the same.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[str, str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self._tags.get(value)
            if tag is None:
                tag = self._tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)


def _new_loader(text: str) -> Any:
    return _Loader(text) if getattr(_Loader, "yaml_path_resolvers", None) else _MemoLoader(text)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_STR_TAG = "tag:yaml.org,2002:str"
_MAX_REF_HOPS = 64


@dataclass(frozen=True, slots=True)
class Document:
    path: Path  # absolute
    label: str  # how diagnostics name the file
    data: Any
    positions: Mapping[str, tuple[int, int]]  # JSON pointer -> (line, column), 1-based
    sha256: str

    @property
    def source_name(self) -> str:
        """A machine-independent name for generated headers: `spec/2024-05-01-preview.yaml`."""
        return f"{self.path.parent.name}/{self.path.name}"

    def locate(self, pointer: str) -> tuple[int | None, int | None]:
        """Line and column of a pointer, or of its nearest ancestor that has one."""
        positions = self.positions
        while True:
            found = positions.get(pointer)
            if found is not None:
                return found
            if not pointer:
                return None, None
            pointer = pointer.rsplit("/", 1)[0]


@dataclass(slots=True)
class Resolved:
    document: Document
    pointer: str
    value: Any


@dataclass(slots=True)
class LoadedSpec:
    """The root document and every document that a `$ref` reaches from it."""

    root: Document
    documents: dict[Path, Document] = field(default_factory=dict)
    # Performance: each reference is resolved once (a 1,000-schema spec follows the same
    # few hundred refs some 15,000 times between validate and lower).
    _resolved: dict[tuple[Path, str], Resolved | None] = field(
        default_factory=dict, repr=False, compare=False)
    _refs: dict[Path, list[tuple[str, str]]] = field(default_factory=dict, repr=False,
                                                     compare=False)

    def refs(self, document: Document) -> list[tuple[str, str]]:
        """iter_refs of a document, walked once (load and validate both need them)."""
        found = self._refs.get(document.path)
        if found is None:
            found = self._refs[document.path] = list(iter_refs(document.data))
        return found

    def diagnostic(
        self, pointer: str, code: str, message: str, *, document: Document | None = None,
        level: str = "error",
    ) -> Diagnostic:
        doc = document or self.root
        line, column = doc.locate(pointer)
        return Diagnostic(
            level=level,  # type: ignore[arg-type]
            code=code,
            file=doc.label,
            pointer=pointer,
            message=message,
            line=line,
            column=column,
        )

    def resolve_ref(self, ref: str, document: Document) -> Resolved | None:
        """One `$ref` hop: `other.yaml#/a/b`, `#/a/b` or `other.yaml`."""
        key = (document.path, ref)
        if key in self._resolved:
            return self._resolved[key]
        found = self._resolved[key] = self._resolve_ref(ref, document)
        return found

    def _resolve_ref(self, ref: str, document: Document) -> Resolved | None:
        file_part, _, fragment = ref.partition("#")
        if file_part:
            target = self.documents.get((document.path.parent / unquote(file_part)).resolve())
            if target is None:
                return None
        else:
            target = document
        pointer = unquote(fragment)
        if pointer and not pointer.startswith("/"):
            return None
        value = evaluate_pointer(target.data, pointer)
        if value is _MISSING:
            return None
        return Resolved(target, pointer, value)

    def deref(self, value: Any, document: Document, pointer: str) -> Resolved:
        """Follow `$ref` chains (an object that is only a reference) to the first real value.

        Raises SpecError on an unresolvable or cyclic chain.
        """
        seen: set[tuple[Path, str]] = set()
        current = Resolved(document, pointer, value)
        while isinstance(current.value, dict) and isinstance(current.value.get("$ref"), str):
            key = (current.document.path, current.pointer)
            if key in seen or len(seen) > _MAX_REF_HOPS:
                raise SpecError([self.diagnostic(
                    current.pointer, "E102", "cyclic $ref: the reference chain comes back to itself",
                    document=current.document)])
            seen.add(key)
            ref = current.value["$ref"]
            nxt = self.resolve_ref(ref, current.document)
            if nxt is None:
                raise SpecError([self.diagnostic(
                    join_pointer(current.pointer, "$ref"), "E101",
                    f"unresolved $ref {ref!r}", document=current.document)])
            current = nxt
        return current


_MISSING = object()


def evaluate_pointer(data: Any, pointer: str) -> Any:
    for token in split_pointer(pointer):
        if isinstance(data, dict) and token in data:
            data = data[token]
        elif isinstance(data, list) and token.isdigit() and int(token) < len(data):
            data = data[int(token)]
        else:
            return _MISSING
    return data


def load(path: str | Path) -> LoadedSpec:
    """Read the root spec and every file reachable through `$ref`.

    Raises SpecError with every problem found when a file cannot be read or parsed.
    """
    given = Path(path)
    root = _read_document(given.resolve(), str(given))
    spec = LoadedSpec(root=root, documents={root.path: root})
    diagnostics: list[Diagnostic] = []
    pending = [root]
    while pending:
        document = pending.pop()
        for pointer, ref in spec.refs(document):
            file_part = ref.partition("#")[0]
            if not file_part:
                continue
            target = (document.path.parent / unquote(file_part)).resolve()
            if target in spec.documents:
                continue
            label = str(Path(document.label).parent / unquote(file_part))
            try:
                loaded = _read_document(target, label)
            except SpecError as exc:
                diagnostics.append(spec.diagnostic(
                    join_pointer(pointer, "$ref"), "E101",
                    f"$ref {ref!r} names a file that cannot be loaded: "
                    + "; ".join(d.message for d in exc.diagnostics),
                    document=document))
                continue
            spec.documents[target] = loaded
            pending.append(loaded)
    if diagnostics:
        raise SpecError(diagnostics)
    return spec


_EXAMPLE_KEYS = frozenset({"example", "examples", "x-ms-examples"})


def iter_refs(data: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every `$ref` string with the pointer of the object holding it.

    Example payloads are data: a `$ref` inside one (or an x-ms-examples link to a file that
    documentation tooling keeps elsewhere) is not a reference the generator follows.
    """
    # Performance: depth first with a stack, in the order of a recursive walk; a pointer is
    # written out only for an object that holds a `$ref` (places are kept as linked tuples).
    stack: list[tuple[Any, Any]] = [(None, data)]
    while stack:
        place, value = stack.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str):
                yield place_pointer(pointer, place), ref
            at_root = place is None and not pointer
            children = [((place, key), item) for key, item in value.items()
                        if isinstance(item, (dict, list))
                        and (at_root or key not in _EXAMPLE_KEYS)]
        elif isinstance(value, list):
            children = [((place, index), item) for index, item in enumerate(value)
                        if isinstance(item, (dict, list))]
        else:
            continue
        children.reverse()
        stack.extend(children)


def place_pointer(pointer: str, place: Any) -> str:
    """The pointer of a place: None for `pointer` itself, else (parent place, key or index)."""
    tokens: list[str | int] = []
    while place is not None:
        place, token = place
        tokens.append(token)
    tokens.reverse()
    return join_pointer(pointer, *tokens)


def _fail(label: str, code: str, message: str, line: int | None = None,
          column: int | None = None, pointer: str = "") -> SpecError:
    return SpecError([Diagnostic(level="error", code=code, file=label, pointer=pointer,
                                 message=message, line=line, column=column)])


def _read_document(path: Path, label: str) -> Document:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _fail(label, "E001", "file not found") from None
    except OSError as exc:
        raise _fail(label, "E001", f"cannot read the file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line: int | None = raw.count(b"\n", 0, exc.start) + 1
        column: int | None = exc.start - raw.rfind(b"\n", 0, exc.start)
        raise _fail(label, "E002", f"not UTF-8 text: byte {raw[exc.start]:#04x} at offset "
                    f"{exc.start}", line, column) from None
    if path.suffix.lower() == ".json" or text.lstrip()[:1] == "{":
        data = _read_json(text)
        if data is not _ANOMALY:
            return Document(path=path, label=label, data=data, positions=_JsonPositions(text),
                            sha256=hashlib.sha256(raw).hexdigest())
    node: yaml.Node | None = None
    # Performance: parsing allocates every value of the document at once, none of it garbage;
    # the cyclic GC would rescan the growing tree again and again (0.42 s -> 0.15 s to load a
    # 1,000-schema spec without it).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        loader = _new_loader(text)
        try:
            node = loader.get_single_node()
            data = _build_fast(node, loader) if node is not None else None
            if data is _ANOMALY:
                # Duplicate or non-string keys, recursive aliases: the exact builder says
                # where, with pointers (it records what the fast one leaves out).
                builder = _Builder(label)
                builder.build(node, "", loader)
                raise SpecError(builder.diagnostics)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
            # JSON that YAML 1.1 rejects: characters it does not print (U+FFFE, controls),
            # surrogate pairs written as escapes (an emoji), tabs. JSON's own parser reads the
            # data; positions come from YAML reading a copy with those characters masked.
            data = _json_fallback(text, label)
            node = _masked_json_node(text)
        else:
            line, column = _yaml_error_place(exc, text)
            problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or (
                getattr(exc, "reason", None) or "invalid syntax")
            raise _fail(label, "E003", f"not valid YAML or JSON: {problem}", line, column) from None
    finally:
        if gc_was_enabled:
            gc.enable()
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise _fail(label, "E004", f"the document must be a mapping, but it is {kind}", 1, 1)
    return Document(path=path, label=label, data=data, positions=_Positions(node),
                    sha256=hashlib.sha256(raw).hexdigest())


# ---- JSON, fast ------------------------------------------------------------------------
# Performance: a JSON spec is read by JSON's own parser (in C): 0.04 s for Jira's 1.8 MB where
# YAML takes 0.4 s and keeps a node per value (memory), and positions are found in the text
# only when a diagnostic asks (_JsonPositions). Whatever JSON reads differently from YAML, or
# what YAML reports on (a duplicate key, an integer of over 4,000 digits, NaN, a surrogate
# written as an escape, nesting deeper than MAX_DEPTH), goes the YAML way below, which says
# where; so the data and every diagnostic are the same (tests/unit/test_fast_paths.py).

def _read_json(text: str) -> Any:
    """The data of a JSON text, or _ANOMALY when the YAML way must read it."""
    if _SURROGATE_ESCAPE.search(text):
        return _ANOMALY
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_json_int,
                          parse_constant=_no_constant)
    except (ValueError, RecursionError, _Anomaly):
        return _ANOMALY
    if not isinstance(data, dict) or _deeper_than(data, MAX_DEPTH):
        return _ANOMALY
    return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Anomaly  # a duplicate key
    return result


def _json_int(text: str) -> int:
    if len(text) > 4000:
        raise _Anomaly
    return int(text)


def _no_constant(text: str) -> Any:
    raise _Anomaly  # NaN, Infinity: not JSON


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` levels (the root is level 1)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        items = value.values() if type(value) is dict else value
        stack.extend((item, depth + 1) for item in items if type(item) in (dict, list))
    return False


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_YAML_BREAKS = re.compile("[\r\x85\u2028\u2029]")


class _JsonPositions(Mapping[str, tuple[int, int]]):
    """JSON pointer -> (line, column), 1-based, as _Positions gives them, found in a JSON text.

    A pointer is followed down the text: the keys of each object it passes through are read
    once (the values skipped by JSON's scanner) and kept by offset.
    """

    __slots__ = ("_children", "_decoder", "_exact", "_line_starts", "_text", "_yaml_breaks")

    def __init__(self, text: str) -> None:
        self._text = text
        self._decoder = json.JSONDecoder()
        self._children: dict[int, Any] = {}
        self._exact: _Positions | None = None
        # YAML counts \r, NEL and the Unicode separators as line breaks too.
        self._yaml_breaks = _YAML_BREAKS.search(text) is not None
        self._line_starts: list[int] | None = None

    def _yaml(self) -> _Positions:
        """Positions as YAML finds them (on the masked copy, as _json_fallback does)."""
        if self._exact is None:
            self._exact = _Positions(_masked_json_node(self._text))
        return self._exact

    def _skip(self, offset: int) -> int:
        return _WHITESPACE.match(self._text, offset).end()  # type: ignore[union-attr]

    def _members(self, offset: int) -> Any:
        """{key: value offset} of the object, or [value offset] of the array, at `offset`."""
        found = self._children.get(offset)
        if found is not None:
            return found
        text, scan = self._text, self._decoder.raw_decode
        opening = text[offset]
        members: Any = {} if opening == "{" else []
        index = self._skip(offset + 1)
        closing = "}" if opening == "{" else "]"
        while text[index] != closing:
            if opening == "{":
                key, index = scan(text, index)
                index = self._skip(self._skip(index) + 1)  # past the colon
                members.setdefault(key, index)
            else:
                members.append(index)
            _, index = scan(text, index)
            index = self._skip(index)
            if text[index] == ",":
                index = self._skip(index + 1)
        self._children[offset] = members
        return members

    def _offset(self, pointer: str) -> int | None:
        offset = self._skip(0)
        if not pointer:
            return offset
        if pointer[0] != "/":
            return None
        for token in pointer[1:].split("/"):
            opening = self._text[offset]
            if opening == "{":
                key = unescape_token(token)
                if escape_token(key) != token:
                    return None  # not the way the pointer of that key is written
                found = self._members(offset).get(key)
            elif opening == "[":
                if not (token.isascii() and token.isdigit()) or str(int(token)) != token:
                    return None
                items = self._members(offset)
                found = items[int(token)] if int(token) < len(items) else None
            else:
                return None
            if found is None:
                return None
            offset = found
        return offset

    def get(self, pointer: str, default: Any = None) -> Any:
        if self._yaml_breaks:
            return self._yaml().get(pointer, default)
        offset = self._offset(pointer) if isinstance(pointer, str) else None
        if offset is None:
            return default
        if self._line_starts is None:  # found once: a spec may have hundreds of warnings
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self._text)]
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def __getitem__(self, pointer: str) -> tuple[int, int]:
        found = self.get(pointer)
        if found is None:
            raise KeyError(pointer)
        return found  # type: ignore[no-any-return]

    def __contains__(self, pointer: object) -> bool:
        return isinstance(pointer, str) and self.get(pointer) is not None

    def _all(self) -> Mapping[str, tuple[int, int]]:
        return self._yaml()

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def _line_column(text: str, offset: int) -> tuple[int | None, int | None]:
    """1-based line and column of a character offset, within the text."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _yaml_error_place(exc: yaml.YAMLError, text: str) -> tuple[int | None, int | None]:
    """Where a YAML error is, never past the end of the text (a truncated file ends there)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        last_line = text.count("\n") + (0 if text.endswith("\n") else 1)
        if mark.line + 1 > last_line:
            return _line_column(text, len(text.rstrip("\n")))
        return mark.line + 1, mark.column + 1
    position = getattr(exc, "position", None)  # a reader error: a character offset
    if isinstance(position, int):
        return _line_column(text, position)
    return None, None


# What YAML refuses in a JSON text (and JSON accepts): characters outside YAML's printable
# set, and surrogates written as escapes (a pair is one character in JSON).
# (A function: compiling this class takes ~4 ms, and only JSON that YAML refuses needs it.)
@functools.cache
def _unprintable() -> re.Pattern[str]:
    return re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONG_INTEGER = re.compile(r"[0-9]{4300,}")


def _json_fallback(text: str, label: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(label, "E003", f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        line, column = _line_column(text, _too_deep_offset(text))
        raise _fail(label, "E009", f"the document nests deeper than {MAX_DEPTH} levels here; "
                    "the generator reads no deeper", line, column) from None
    except ValueError as exc:  # an integer too long for int()
        found = _LONG_INTEGER.search(text)
        line, column = _line_column(text, found.start()) if found else (None, None)
        raise _fail(label, "E008", f"not a usable number: {exc}"[:200], line, column) from None
    problem = _first_unusable(data)
    if problem is not None:
        pointer, message = problem
        place = _masked_json_node(text)
        found = _Positions(place).get(pointer) if place is not None else None
        line, column = found if found else (None, None)
        if message.startswith("a string holds") and found is None:
            escape = _lone_surrogate_escape(text)
            if escape is not None:
                line, column = _line_column(text, escape)
        raise _fail(label, "E011" if message.startswith("a string") else "E009", message,
                    line, column, pointer)
    return data


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep_offset(text: str) -> int:
    """The offset of the first bracket of a JSON text nested deeper than MAX_DEPTH."""
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                return token.start()
        elif bracket in ("]", "}"):
            depth -= 1
    return 0


def _first_unusable(data: Any) -> tuple[str, str] | None:
    """(pointer, problem) of the first string that is not Unicode text (a lone surrogate) or
    of the first value nested deeper than MAX_DEPTH."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, pointer, depth = stack.pop()
        if depth > MAX_DEPTH:
            return pointer, (f"the document nests deeper than {MAX_DEPTH} levels here; the "
                             "generator reads no deeper")
        if isinstance(value, dict):
            for key, item in value.items():
                if _has_surrogate(key):
                    return pointer, "a string holds a lone surrogate: not Unicode text"
                stack.append((item, join_pointer(pointer, key), depth + 1))
        elif isinstance(value, list):
            stack.extend((item, join_pointer(pointer, i), depth + 1)
                         for i, item in enumerate(value))
        elif isinstance(value, str) and _has_surrogate(value):
            return pointer, "a string holds a lone surrogate: not Unicode text"
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _lone_surrogate_escape(text: str) -> int | None:
    """The offset of the first surrogate escape that is not half of a pair."""
    matches = list(_SURROGATE_ESCAPE.finditer(text))
    for index, match in enumerate(matches):
        high = match.group()[2].lower() == "d" and match.group()[3].lower() in "89ab"
        follower = matches[index + 1] if index + 1 < len(matches) else None
        paired = high and follower is not None and follower.start() == match.end() and (
            follower.group()[3].lower() in "cdef")
        previous = matches[index - 1] if index else None
        closes = (not high and previous is not None and previous.end() == match.start()
                  and previous.group()[3].lower() in "89ab")
        if not paired and not closes:
            return match.start()
    return None


def _masked_json_node(text: str) -> yaml.Node | None:
    """The YAML node tree of a JSON text whose characters YAML refuses are masked, with the
    same lengths (so lines and columns stay true); None when YAML still cannot read it."""
    masked = _unprintable().sub("?", text)
    masked = _SURROGATE_ESCAPE.sub(lambda m: "\\u003f", masked)
    masked = masked.replace("\t", " ")
    loader = _new_loader(masked)
    try:
        return loader.get_single_node()  # type: ignore[no-any-return]
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


_ANOMALY: Any = object()
# Deeper documents are refused where they pass this depth: the stages after loading walk
# documents recursively, and the deepest of 33 public specs nests 31 levels.
MAX_DEPTH = 100
_INT_TAG = "tag:yaml.org,2002:int"
_JSON_SCALAR_TAGS = frozenset({_STR_TAG, _TIMESTAMP_TAG, _INT_TAG,
                               "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                               "tag:yaml.org,2002:null"})


def _build_fast(root: yaml.Node, loader: Any) -> Any:
    """Plain Python data from YAML nodes, or _ANOMALY when a key is a duplicate or not a
    scalar, or an alias is recursive (then _Builder, slower, reports each problem).

    Performance: builds no JSON pointers; positions are found from the node tree when a
    diagnostic asks for one (_Positions). Same data as _Builder.build.
    """
    on_path: set[int] = set()
    scalar_node, sequence_node = yaml.ScalarNode, yaml.SequenceNode
    construct = loader.construct_object
    flatten = loader.flatten_mapping

    def build(node: yaml.Node) -> Any:
        if isinstance(node, scalar_node):
            tag = node.tag
            if tag == _STR_TAG or tag == _TIMESTAMP_TAG:
                return node.value  # what the str constructor returns; dates stay text
            if tag not in _JSON_SCALAR_TAGS or (tag == _INT_TAG and len(node.value) > 4000):
                raise _Anomaly  # !!binary and the like, or an integer too long for int()
            return construct(node, deep=True)
        ident = id(node)
        if ident in on_path:
            raise _Anomaly
        if len(on_path) >= MAX_DEPTH:
            raise _Anomaly
        on_path.add(ident)
        if isinstance(node, sequence_node):
            result: Any = [build(item) for item in node.value]
        else:
            flatten(node)  # resolves `<<` merge keys
            result = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, scalar_node):
                    raise _Anomaly
                key = key_node.value if key_node.tag == _STR_TAG else _scalar_key(
                    key_node, construct)
                if key in result:
                    raise _Anomaly
                result[key] = build(value_node)
        on_path.discard(ident)
        return result

    try:
        return build(root)
    except _Anomaly:
        return _ANOMALY


class _Anomaly(Exception):
    pass


def _scalar_key(node: yaml.ScalarNode, construct: Any) -> str:
    """A mapping key as text: `200:` in responses means "200"."""
    if node.tag == _TIMESTAMP_TAG:
        return str(node.value)
    key = construct(node)
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    return str(node.value)


class _Positions(Mapping[str, tuple[int, int]]):
    """JSON pointer -> (line, column), 1-based, read from the YAML node tree on demand.

    Holds exactly the pointers of the document's values (as _Builder records them): a
    pointer is found by walking its tokens down the nodes, so no pointer string is built
    for a value that no diagnostic names.
    """

    __slots__ = ("_constructor", "_keys", "_root")

    def __init__(self, root: yaml.Node | None) -> None:
        self._root = root
        self._keys: dict[int, dict[str, yaml.Node]] = {}
        self._constructor: Any = None

    def _children(self, node: yaml.MappingNode) -> dict[str, yaml.Node]:
        children = self._keys.get(id(node))
        if children is None:
            if self._constructor is None:
                self._constructor = yaml.constructor.SafeConstructor()
            construct = self._constructor.construct_object
            children = {}
            for key_node, value_node in node.value:  # merge keys already flattened
                key = key_node.value if key_node.tag == _STR_TAG else _scalar_key(
                    key_node, construct)
                children.setdefault(key, value_node)
            self._keys[id(node)] = children
        return children

    def _node(self, pointer: str) -> yaml.Node | None:
        node = self._root
        if node is None or not pointer:
            return node
        if pointer[0] != "/":
            return None
        for token in pointer[1:].split("/"):
            if isinstance(node, yaml.MappingNode):
                key = unescape_token(token)
                if escape_token(key) != token:
                    return None  # not the way the pointer of that key is written
                node = self._children(node).get(key)
                if node is None:
                    return None
            elif isinstance(node, yaml.SequenceNode):
                if not (token.isascii() and token.isdigit()) or str(int(token)) != token:
                    return None
                index = int(token)
                if index >= len(node.value):
                    return None
                node = node.value[index]
            else:
                return None
        return node

    def get(self, pointer: str, default: Any = None) -> Any:
        node = self._node(pointer) if isinstance(pointer, str) else None
        if node is None:
            return default
        return node.start_mark.line + 1, node.start_mark.column + 1

    def __getitem__(self, pointer: str) -> tuple[int, int]:
        found = self.get(pointer)
        if found is None:
            raise KeyError(pointer)
        return found  # type: ignore[no-any-return]

    def __contains__(self, pointer: object) -> bool:
        return isinstance(pointer, str) and self._node(pointer) is not None

    def _all(self) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        stack: list[tuple[str, yaml.Node]] = [("", self._root)] if self._root is not None else []
        while stack:
            pointer, node = stack.pop()
            found[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
            if isinstance(node, yaml.MappingNode):
                stack.extend((join_pointer(pointer, key), child)
                             for key, child in self._children(node).items())
            elif isinstance(node, yaml.SequenceNode):
                stack.extend((join_pointer(pointer, i), child)
                             for i, child in enumerate(node.value))
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class _Builder:
    """Builds plain Python data from YAML nodes, recording each node's position.

    The exact, slower builder: used for the diagnostics of a document _build_fast refuses.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.positions: dict[str, tuple[int, int]] = {}
        self.diagnostics: list[Diagnostic] = []
        self._on_path: set[int] = set()

    def _problem(self, node: yaml.Node, pointer: str, code: str, message: str) -> None:
        self.diagnostics.append(Diagnostic(
            level="error", code=code, file=self.label, pointer=pointer, message=message,
            line=node.start_mark.line + 1, column=node.start_mark.column + 1))

    def build(self, node: yaml.Node, pointer: str, loader: Any) -> Any:
        self.positions[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _TIMESTAMP_TAG:
                return node.value  # dates stay text, as in JSON
            if node.tag not in _JSON_SCALAR_TAGS:
                self._problem(node, pointer, "E008", f"a YAML {node.tag.rsplit(':', 1)[-1]!r} "
                              "value is not JSON data (a spec holds only what JSON can)")
                return None
            if node.tag == _INT_TAG and len(node.value) > 4000:
                self._problem(node, pointer, "E008", f"an integer of {len(node.value)} digits "
                              "is not usable (at most 4,000)")
                return None
            return loader.construct_object(node, deep=True)
        if id(node) in self._on_path:
            self._problem(node, pointer, "E005", "recursive YAML alias")
            return None
        if len(self._on_path) >= MAX_DEPTH:
            if not any(d.code == "E009" for d in self.diagnostics):
                self._problem(node, pointer, "E009", f"the document nests deeper than "
                              f"{MAX_DEPTH} levels here; the generator reads no deeper")
            return None
        self._on_path.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, join_pointer(pointer, i), loader)
                        for i, item in enumerate(node.value)]
            loader.flatten_mapping(node)  # resolves `<<` merge keys
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node, pointer, loader)
                if key is None:
                    continue
                child = join_pointer(pointer, key)
                if key in result:
                    self._problem(key_node, child, "E006", f"duplicate key {key!r}")
                    continue
                result[key] = self.build(value_node, child, loader)
            return result
        finally:
            self._on_path.discard(id(node))

    def _key(self, node: yaml.Node, pointer: str, loader: Any) -> str | None:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _TIMESTAMP_TAG:
                return str(node.value)
            key = loader.construct_object(node)
            if isinstance(key, str):
                return key
            if isinstance(key, int) and not isinstance(key, bool):
                return str(key)  # `200:` in responses means "200"
            return str(node.value)
        self._problem(node, pointer, "E007", "a mapping key must be a string")
        return None
