"""Problems found in a spec, each tied to a file, a line and a JSON pointer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    level: Literal["error", "warning"]
    code: str
    file: str
    pointer: str  # JSON pointer without the leading '#', e.g. "/components/schemas/Foo"
    message: str
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        """`file:line:column`, as far as they are known."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def format(self) -> str:
        return (f"{_one_line(self.where())} #{_one_line(self.pointer)}: {self.code} "
                f"{_one_line(self.message)}")


# Line breaks and other control characters, written as escapes so that a diagnostic stays on
# one line whatever names the spec uses (a property named "\n", say).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _one_line(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class SpecError(Exception):
    """Raised by a stage when the spec cannot go further; carries every problem found."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def escape_token(token: str | int) -> str:
    """One JSON pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join_pointer(pointer: str, *tokens: str | int) -> str:
    # Performance: called some 50,000 times on a 1,000-schema spec; most tokens need no escape.
    for token in tokens:
        text = token if type(token) is str else str(token)
        if "~" in text or "/" in text:
            text = text.replace("~", "~0").replace("/", "~1")
        pointer = f"{pointer}/{text}"
    return pointer


def split_pointer(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [unescape_token(t) for t in pointer.lstrip("/").split("/")]
