"""Each class of input that once crashed the generator (issue 11), now accepted or refused with
exit 2 and one located diagnostic line; the output is left as it was."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from generator.cli import main
from generator.load import load


def spec_31(schemas: str, body_extra: str = "") -> str:
    return f"""openapi: 3.1.0
info: {{title: T, version: '1'}}
paths:
  /x:
    post:
      operationId: op
      requestBody:
        content:
          application/json:
            schema: {{$ref: '#/components/schemas/A'}}
{body_extra}
      responses:
        '200': {{description: ok}}
components:
  schemas:
{schemas}
"""


def _json(extra: str) -> str:
    return ('{"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": {},\n'
            f' "components": {{"schemas": {extra}}}}}')


DEEP_JSON = ('{"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": {}, '
             '"x-deep": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}")
ALL_OF_200 = _json('{"A": ' + '{"allOf": [' * 200 + '{"type": "object"}' + "]}" * 200 + "}")
ARRAYS_200 = _json('{"A": ' + '{"type": "array", "items": ' * 200 + '{"type": "string"}'
                   + "}" * 200 + "}")

# (file name, text, expected diagnostic: code and "line:column" or None for a warning-only run)
REFUSED = [
    ("deep.json", DEEP_JSON, "E009", "1:"),
    ("allof.json", ALL_OF_200, "E009", "2:"),
    ("arrays.json", ARRAYS_200, "E009", "2:"),
    ("bigint.json", _json('{"A": {"type": "integer", "maximum": ' + "9" * 5000 + "}}"),
     "E008", "2:"),
    ("bigint.yaml", spec_31("    A: {type: integer, maximum: " + "9" * 5000 + "}"), "E008",
     "16:33"),
    ("binary.yaml", spec_31("    A: {type: string, default: !!binary aGVsbG8=}"), "E008",
     "16:32"),
    ("content.yaml", spec_31("    A: {type: object}").replace(
        "        content:\n          application/json:\n"
        "            schema: {$ref: '#/components/schemas/A'}", "        content: [1, 2]"),
     "E020", "8:18"),
    ("parameters.yaml", spec_31("    A: {type: object}").replace(
        "      operationId: op", "      operationId: op\n      parameters: 7"), "E020", "7:19"),
    ("ref_to_string.yaml", spec_31("    A: {$ref: '#/info/title'}", "            example: {}"),
     "E105", "16:15"),
    ("cycle.yaml", spec_31("    A: {oneOf: [{$ref: '#/components/schemas/B'}]}\n"
                           "    B: {anyOf: [{$ref: '#/components/schemas/A'}]}",
                           "            example: {a: 1}"), "E103", "16:8"),
    ("control.yaml", spec_31("    A: {type: object, description: a\x01b}"), "E003", "16:37"),
    ("fffe.yaml", spec_31("    A: {type: object, description: a\ufffeb}"), "E003", "16:37"),
    ("surrogate.json", _json('{"A": {"type": "object", "description": "x\\ud800y"}}'),
     "E011", "2:"),
    ("newline_name.yaml", spec_31('    A: {type: object, properties: {"\\n": {type: strin}}}'),
     "E021", "16:49"),
    ("truncated.yaml", spec_31("    A: {type: object, properties: {b: {type: string}}}")[:-20],
     "E003", "16:36"),
]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize(("name", "text", "code", "place"), REFUSED,
                         ids=[case[0] for case in REFUSED])
def test_refused_with_one_located_line(name: str, text: str, code: str, place: str,
                                       tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / name
    spec.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    (out / "earlier").mkdir(parents=True)
    (out / "earlier" / "models.py").write_text("# kept\n")
    before = snapshot(out)
    assert main(["generate", "--spec", str(spec), "--out", str(out)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines()
              if line.startswith("error:")]
    assert errors, "no diagnostic"
    lines = text.count("\n") + 1
    for line in errors:
        found = re.match(rf"error: {re.escape(str(spec))}:(\d+):(\d+) #\S*: E\d\d\d ", line)
        assert found, line
        assert int(found.group(1)) <= lines
    assert any(f"{spec}:{place}" in line and f" {code} " in line for line in errors), errors
    assert snapshot(out) == before


def test_the_newline_property_stays_on_one_line(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "a.yaml"
    spec.write_text(spec_31('    A: {type: object, properties: {"\\n": {type: strin}}}'))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "#/components/schemas/A/properties/\\u000a/type: E021" in err
    assert len(err.strip().splitlines()) == 1


def test_pattern_checks_are_bounded_in_time(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "redos.yaml"
    # Catastrophic for Python's re: (a|a)+ backtracks 2^n ways before it fails.
    spec.write_text(spec_31("    A: {type: string, pattern: '^(a|a)+$'}",
                            "            example: '" + "a" * 60 + "!'"))
    started = time.monotonic()
    assert main(["validate", str(spec)]) in (0, 2)
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert " E130 " in err or " W132 " in err


def test_json_numbers_mean_what_json_says_in_yaml_too(tmp_path: Path) -> None:
    for name, text in (("e.yaml", spec_31("    A: {type: number, minimum: 1e0, default: 7e-1}")),
                       ("e.json", _json('{"A": {"type": "number", "minimum": 1e0, '
                                        '"default": 7e-1}}'))):
        path = tmp_path / name
        path.write_text(text)
        schema = load(path).root.data["components"]["schemas"]["A"]
        assert schema == {"type": "number", "minimum": 1.0, "default": 0.7}
        assert main(["generate", "--spec", str(path), "--out", str(tmp_path / "out")]) == 0


def test_json_that_yaml_refuses_keeps_its_lines(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """U+FFFE and surrogate pairs as escapes are valid JSON; YAML 1.1 refuses them."""
    for name, title in (("fffe.json", "T\ufffe"), ("emoji.json", "T \\ud83d\\ude00")):
        path = tmp_path / name
        path.write_text('{"openapi": "3.1.0",\n "info": {"title": "' + title + '", '
                        '"version": "1"},\n "paths": {},\n'
                        ' "components": {"schemas": {"A": {"type": "objectt"}}}}')
        assert main(["validate", str(path)]) == 2
        assert f"{path}:4:" in capsys.readouterr().err
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"openapi": "3.1.0", "info": {"title": "T \U0001f600\ufffe",
                                                             "version": "1"}, "paths": {}}))
    assert main(["generate", "--spec", str(good), "--out", str(tmp_path / "out")]) == 0


def test_a_long_info_version_gives_a_short_package_name(tmp_path: Path) -> None:
    spec = tmp_path / "long.yaml"
    spec.write_text(spec_31("    A: {type: object}").replace("version: '1'",
                                                             "version: '" + "1" * 300 + "'"))
    out = tmp_path / "out"
    assert main(["generate", "--spec", str(spec), "--out", str(out)]) == 0
    (package,) = [p for p in out.iterdir() if p.is_dir()]
    assert len(package.name) <= 100


def test_a_lone_surrogate_in_yaml_is_refused_where_it_is(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(spec_31('    A: {type: object, description: "\\ud800"}'))
    assert main(["validate", str(spec)]) == 2
    assert f"{spec}:16:" in capsys.readouterr().err


def test_an_output_path_that_cannot_be_written_is_an_error_not_a_crash(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "a.yaml"
    spec.write_text(spec_31("    A: {type: object}"))
    assert main(["generate", "--spec", str(spec), "--out", str(spec)]) == 2
    assert f"error: cannot write to {spec}:" in capsys.readouterr().err
