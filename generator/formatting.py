"""Formatting of rendered modules: the one place generated text is formatted.

The output is black's style (line length 100, Python 3.11), which the tests prove by running
`black --check` over every generated package. It is produced with `ruff format` (pinned in
pyproject.toml), whose style is black's, because black itself handles only a few thousand lines
a second: a 1,000-schema spec renders some 90,000 lines, which black takes half a minute to
format and ruff a tenth of a second.

The two formatters differ in one place that generated code reaches: a parameter annotation too
long for its line. Black wraps it in parentheses; ruff splits it at its `|` operators. So a
parameter that ruff split that way gets the parentheses black would add, and the module goes
through ruff once more, which then lays out the parenthesised annotation exactly as black does.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
import tokenize
from collections.abc import Mapping
from pathlib import Path

LINE_LENGTH = 100
TARGET_VERSION = "py311"


def format_modules(modules: Mapping[str, str]) -> dict[str, str]:
    """{name: formatted text} for every module, in the order given.

    Raises RuntimeError naming the module when one is not valid Python (a generator bug).
    """
    formatted = _ruff_format(modules)
    needs_second_pass = {}
    for name, text in formatted.items():
        fixed = parenthesize_split_parameter_annotations(text)
        if fixed != text:
            needs_second_pass[name] = fixed
    if needs_second_pass:
        formatted.update(_ruff_format(needs_second_pass))
    return {name: formatted[name] for name in modules}


def _ruff_binary() -> str:
    from ruff.__main__ import find_ruff_bin

    return os.fsdecode(find_ruff_bin())


def _ruff_format(modules: Mapping[str, str]) -> dict[str, str]:
    """Every module through one `ruff format` process (ruff formats the files in parallel)."""
    with tempfile.TemporaryDirectory(prefix="embeddings-codegen-format-") as folder:
        paths: dict[str, Path] = {}
        for index, (name, text) in enumerate(modules.items()):
            # Flat, numbered file names: module names come from the spec and could hold anything.
            path = Path(folder) / f"m{index}.py"
            path.write_text(text, encoding="utf-8", newline="\n")
            paths[name] = path
        result = subprocess.run(
            [_ruff_binary(), "format", "--isolated", "--no-cache",
             "--line-length", str(LINE_LENGTH), "--target-version", TARGET_VERSION, folder],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            names = {str(path): name for name, path in paths.items()}
            message = result.stderr.strip() or result.stdout.strip()
            for path_text, name in names.items():
                message = message.replace(path_text, name)
            raise RuntimeError(f"generated code is not valid Python: {message}")
        return {name: path.read_text(encoding="utf-8") for name, path in paths.items()}


def parenthesize_split_parameter_annotations(text: str) -> str:
    """Turn ruff's split of a long parameter annotation into the parenthesised form black uses.

    Ruff writes::

        error: A
        | B
        | None,

    for a parameter whose annotation does not fit; black writes ``error: (`` ... ``),``. The
    split lines are joined back into ``error: (A | B | None),`` for ruff to lay out again.
    """
    ended = text.endswith("\n")
    if not ended:
        text += "\n"
    # Performance: the text is searched for continuation lines (`| ` after the indentation),
    # and only the line before each is looked at; most lines are never visited in Python.
    pieces: list[str] = []
    done = position = 0
    while (continuation := _CONTINUATION.search(text, position)) is not None:
        line_start = text.rfind("\n", 0, continuation.start()) + 1
        block = _SPLIT_ANNOTATION.match(text, line_start)
        if block is None or block.end() <= continuation.start():
            position = continuation.end()
            continue
        pieces += [text[done:line_start], _parenthesized(block)]
        done = position = block.end()
    pieces.append(text[done:])
    joined = "".join(pieces)
    return joined if ended else joined[:-1]


# A line continued by `| ` at its own indentation; and a line, then every such continuation.
_CONTINUATION = re.compile(r"\n +\| ")
_SPLIT_ANNOTATION = re.compile(r"( +)([^ \n][^\n]*)\n((?:\1\| [^\n]*\n)+)")


def _parenthesized(found: re.Match[str]) -> str:
    indent, stripped, block = found.group(1), found.group(2), found.group(3)
    followers = [line[len(indent) + 2:] for line in block.split("\n")[:-1]]
    if not _starts_parameter(stripped) or not followers[-1].endswith(","):
        return found.group(0)
    head, _, first = stripped.partition(": ")
    annotation_tail, default = _split_default(followers[-1][:-1])
    parts = [first, *followers[:-1], annotation_tail]
    return f"{indent}{head}: ({' | '.join(parts)}){default},\n"


def _starts_parameter(stripped: str) -> bool:
    name, sep, rest = stripped.partition(": ")
    return bool(sep) and name.isidentifier() and bool(rest) and not rest.endswith(",")


def _split_default(text: str) -> tuple[str, str]:
    """`T = default` -> ("T", " = default"), finding the `=` outside brackets and strings."""
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.OP:
                if token.string in "([{":
                    depth += 1
                elif token.string in ")]}":
                    depth -= 1
                elif token.string == "=" and depth == 0:
                    column = token.start[1]
                    return text[:column].rstrip(), " " + text[column:]
    except (tokenize.TokenError, IndentationError):
        pass
    return text, ""


if __name__ == "__main__":  # format files in place: python -m generator.formatting FILE...
    for argument in sys.argv[1:]:
        target = Path(argument)
        target.write_text(format_modules({argument: target.read_text("utf-8")})[argument],
                          encoding="utf-8")
