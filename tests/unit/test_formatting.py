"""The formatter writes black's style: ruff plus the one fix-up where the two differ."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from generator.formatting import format_modules, parenthesize_split_parameter_annotations

SOURCE = '''\
class Client:
    def call(self, *, short: int | None = None, error: GetEmbeddings0000Error | GetEmbeddings0001Error | GetEmbeddings0002Error | GetEmbeddings0003Error | None, extra_parameters: _t.Literal["pass-through", "a = b", "error"] | _rt.NotGiven = _rt.NOT_GIVEN, mode_with_a_rather_long_parameter_name: _t.Literal["x", "y"] | _rt.NotGiven = _rt.NOT_GIVEN) -> None:
        pass

    field: EmbeddingEncodingFormatVeryLongName | AnotherVeryLongTypeName | _rt.NotGiven | SomethingElse = NOT_GIVEN
'''


def test_output_is_what_black_writes(tmp_path: Path) -> None:
    formatted = format_modules({"m.py": SOURCE})["m.py"]
    target = tmp_path / "m.py"
    target.write_text(SOURCE)
    subprocess.run([str(Path(sys.executable).parent / "black"), "-q", "--line-length", "100",
                    "--target-version", "py311", str(target)], check=True)
    assert formatted == target.read_text()
    assert "extra_parameters: (" in formatted


def test_the_fix_up_joins_a_split_annotation_keeping_its_default() -> None:
    split = ("    def f(\n        x: A\n        | _t.Literal['a = b']\n        | None = None,\n"
             "    ): ...\n")
    assert parenthesize_split_parameter_annotations(split) == (
        "    def f(\n        x: (A | _t.Literal['a = b'] | None) = None,\n    ): ...\n")


def test_invalid_python_names_the_module() -> None:
    with pytest.raises(RuntimeError, match="generated code is not valid Python"):
        format_modules({"pkg/models.py": "def (:\n"})


@pytest.mark.parametrize(("text", "expected"), [
    # not a parameter above the continuation lines: left as it is
    ("    x = (\n        a\n        | b\n    )\n", "    x = (\n        a\n        | b\n    )\n"),
    ("        y: int\n        | B,\n", "        y: (int | B),\n"),
    # the continuation at another indentation than the line above: left as it is
    ("    x: A\n        | B,\n", "    x: A\n        | B,\n"),
    # no final newline; two split parameters in a row
    ("    a: A\n    | B,\n    b: C\n    | D = 1,", "    a: (A | B),\n    b: (C | D) = 1,"),
    # the last continuation does not end the parameter: left as it is
    ("    a: A\n    | B\n", "    a: A\n    | B\n"),
])
def test_the_fix_up_touches_only_split_parameters(text: str, expected: str) -> None:
    assert parenthesize_split_parameter_annotations(text) == expected
