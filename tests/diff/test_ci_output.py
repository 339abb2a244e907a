"""The diff for CI users: GitHub Actions annotations, JUnit XML, `--fail-on` levels, and specs
that break OpenAPI's rules in ways the diff can read past (compared; `--strict` refuses them)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from generator.cli import main
from tests.conftest import ROOT

OLD, NEW = "spec/2024-04-01-preview.yaml", "spec/2024-05-01-preview.yaml"


def _summary(capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    _code, out, _err = _run(capsys, OLD, NEW, "--format", "json")
    summary: dict[str, int] = json.loads(out)["summary"]
    return summary


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    os.chdir(ROOT)
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_github_annotations_point_at_the_spec_lines(capsys: pytest.CaptureFixture[str]) -> None:
    summary = _summary(capsys)
    code, out, _err = _run(capsys, OLD, NEW, "--format", "github")
    assert code == 0
    lines = out.splitlines()
    command = re.compile(r"^::(error|warning|notice) (file=[^,:]+,line=\d+,)?title=[^:]+::.+$")
    assert all(command.match(line) for line in lines), [ln for ln in lines
                                                        if not command.match(ln)]
    # A removed header parameter is annotated on the old file, where it still is.
    removed = [ln for ln in lines if "azureml-model-deployment" in ln]
    assert removed and removed[0].startswith(f"::warning file={OLD},line=")
    assert any(ln.startswith(f"::error file={NEW},line=") for ln in lines)
    assert len(lines) == summary["changes"] + 1
    assert lines[-1].startswith(f"::notice title=spec diff::{summary['changes']} changes: "
                                f"{summary['err']} ERR, {summary['warn']} WARN")


def test_github_annotations_escape_spec_text() -> None:
    from generator.diff.report import _escape_data, _escape_property

    assert _escape_data("a\nb%") == "a%0Ab%25"
    assert _escape_property("x,y:z") == "x%2Cy%3Az"


def test_junit_fails_one_case_per_change_at_the_level(capsys: pytest.CaptureFixture[str]) -> None:
    summary = _summary(capsys)
    code, out, _err = _run(capsys, OLD, NEW, "--format", "junit")
    assert code == 0
    suite = ET.fromstring(out.split("\n", 1)[1]).find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == int(suite.get("tests", "0")) == summary["changes"]
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == int(suite.get("failures", "0")) == summary["err"]
    assert {f.find("failure").get("type") for f in failures} == {"ERR"}  # type: ignore[union-attr]
    code, out, _err = _run(capsys, OLD, NEW, "--format", "junit", "--fail-on", "WARN")
    assert code == 1 and f'failures="{summary["err"] + summary["warn"]}"' in out


@pytest.mark.parametrize(("level", "expected"), [("ERR", 1), ("warn", 1), ("INFO", 1)])
def test_fail_on_levels(capsys: pytest.CaptureFixture[str], level: str, expected: int) -> None:
    assert _run(capsys, OLD, NEW, "--fail-on", level)[0] == expected
    assert _run(capsys, NEW, NEW, "--fail-on", level)[0] == 0


def test_fail_on_err_ignores_what_only_may_break(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    body = ("openapi: 3.1.0\ninfo: {{title: T, version: '1'}}\npaths:\n  /x:\n    post:\n"
            "      requestBody:\n        content:\n          application/json:\n"
            "            schema:\n              type: object\n              properties:\n"
            "                a: {{type: string}}\n{extra}"
            "      responses:\n        '200': {{description: OK}}\n")
    old.write_text(body.format(extra="                b: {type: string}\n"), encoding="utf-8")
    new.write_text(body.format(extra=""), encoding="utf-8")
    assert _run(capsys, str(old), str(new), "--fail-on", "ERR")[0] == 0
    assert _run(capsys, str(old), str(new), "--fail-on", "WARN")[0] == 1


def test_a_spec_with_readable_errors_is_compared(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """No `responses` (required by OpenAPI): oasdiff compares such specs, and so do we."""
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    text = ("openapi: 3.0.0\ninfo: {{title: T, version: '1'}}\npaths:\n  /x:\n    get:\n"
            "      parameters:\n        - {{name: q, in: query, required: {req}, "
            "schema: {{type: string}}}}\n")
    old.write_text(text.format(req="false"), encoding="utf-8")
    new.write_text(text.format(req="true"), encoding="utf-8")
    code, out, err = _run(capsys, str(old), str(new), "--fail-on", "ERR", "--format", "json")
    assert code == 1 and "parameter-became-required" in out
    assert "E020" in err and "compared as far as it could be read" in err
    code, out, err = _run(capsys, str(old), str(new), "--strict")
    assert code == 2 and out == "" and "E020" in err
