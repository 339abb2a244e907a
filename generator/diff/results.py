"""What the diff finds: changes with their places in both files, and the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from generator.diff.rules import RULES_BY_ID, Context, Level
from generator.load import LoadedSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class Side:
    file: str
    pointer: str
    line: int | None
    value: str | None  # a short rendering of the old or new value, when there is one

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    rule: str
    where: str  # a readable location, e.g. "POST /images/embeddings response 200 body"
    message: str
    contexts: tuple[Context, ...]  # where it flows; () for a schema no operation uses
    breaks_clients: bool
    breaks_servers: bool
    level: Level  # for clients, as oasdiff grades: ERR breaks them, WARN may, INFO does not
    old: Side | None
    new: Side | None

    @property
    def subject(self) -> str:
        return RULES_BY_ID[self.rule].subject


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeChange:
    """A public name of the generated package that appears, disappears or changes."""

    module: str  # "package", "models", "client", "server", "exceptions"
    name: str
    kind: Literal["added", "removed", "changed"]
    old: str | None  # its signature
    new: str | None
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    old_file: str
    new_file: str
    old_version: str
    new_version: str
    old_sha256: str
    new_sha256: str
    changes: tuple[Change, ...]
    code: tuple[CodeChange, ...]

    @property
    def breaking(self) -> bool:
        return any(c.breaks_clients or c.breaks_servers for c in self.changes)


Locator = Callable[[str], tuple[str, int | None]]  # pointer -> (file label, line)


def locator(spec: LoadedSpec) -> Locator:
    """pointer -> (file, line) in a loaded spec: the root document first, then the files its
    `$ref`s reach; the line is None when no document has that exact pointer."""
    documents = [spec.root] + [d for d in spec.documents.values() if d is not spec.root]

    def locate(pointer: str) -> tuple[str, int | None]:
        for document in documents:
            if pointer in document.positions:
                return document.label, document.positions[pointer][0]
        return spec.root.label, None

    return locate
