"""The reviewed diff 2024-04-01-preview -> 2024-05-01-preview, the CLI's exit codes, the docs.

The golden files are refreshed only on purpose, then reviewed as a diff:
    make -s diff > tests/diff/golden/2024-04-01-preview_to_2024-05-01-preview.md
    make -s diff FORMAT=json > tests/diff/golden/2024-04-01-preview_to_2024-05-01-preview.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator import diff
from generator.cli import main
from generator.diff import report
from tests.conftest import ROOT

OLD, NEW = "spec/2024-04-01-preview.yaml", "spec/2024-05-01-preview.yaml"
GOLDEN = ROOT / "tests" / "diff" / "golden" / "2024-04-01-preview_to_2024-05-01-preview"
REFRESH = "refresh with `make -s diff > ...` (see this module's docstring) and review the change"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    os.chdir(ROOT)
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_markdown_equals_the_reviewed_golden_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = _run(capsys, OLD, NEW)
    assert code == 0
    assert out == GOLDEN.with_suffix(".md").read_text(encoding="utf-8"), REFRESH


def test_json_equals_the_reviewed_golden_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = _run(capsys, OLD, NEW, "--format", "json")
    assert code == 0
    assert json.loads(out) == json.loads(GOLDEN.with_suffix(".json").read_text(encoding="utf-8")), \
        REFRESH


def test_the_real_diff_says_what_a_reviewer_must_know() -> None:
    """The facts of this version change, checked one by one (not only through the golden)."""
    data = json.loads(GOLDEN.with_suffix(".json").read_text(encoding="utf-8"))
    found = {(c["rule"], c["where"], c["message"]): c for c in data["changes"]}

    def one(rule: str, where: str, message: str) -> dict[str, object]:
        return found[(rule, where, message)]

    op = "POST /images/embeddings"
    added = one("operation-added", "POST /embeddings", "operation GetEmbeddings added")
    assert (added["breaks_clients"], added["breaks_servers"]) == (False, True)
    # The 2024-04 header the client could send is gone; `ignore` is no longer a mode.
    gone = one("parameter-removed", f"{op} header parameter `azureml-model-deployment`",
               "parameter removed")
    assert gone["breaks_clients"] is True and gone["new"] is None
    ignore = one("enum-value-removed-open", f"{op} header parameter `extra-parameters`",
                 'value "ignore" removed')
    assert ignore["breaks_clients"] is True
    # The per-status flat errors become the Azure core error shape under `default`.
    for status in ("401", "404", "422", "429"):
        one("response-removed-covered", f"{op} response {status}",
            "response removed (now covered by default)")
    error = one("type-changed", "schema UnauthorizedError → Azure.Core.Foundations.ErrorResponse:"
                " `error`", "type changes")
    assert error["old"]["value"] == "string"  # type: ignore[index]
    assert error["new"]["value"] == "Azure.Core.Foundations.Error"  # type: ignore[index]
    assert error["old"]["line"] and error["new"]["line"]  # type: ignore[index]
    # Usage loses the patch counts, which old clients read.
    patches = one("property-removed", "schema Usage → EmbeddingsUsage",
                  "property `prompt_patches` removed")
    assert (patches["breaks_clients"], patches["breaks_servers"]) == (True, False)
    # The response gains a required `id`, which an old service does not send.
    ident = one("property-added-required", "schema CreateEmbeddingResponse → EmbeddingsResult",
                "property `id` added (required)")
    assert (ident["breaks_clients"], ident["breaks_servers"]) == (False, True)
    one("default-removed", "schema CreateImageEmbeddingRequest → ImageEmbeddingsOptions: "
        "`encoding_format`", 'default "float" removed')
    one("security-scheme-removed", "security Authorization",
        "scheme removed (API key in header `Authorization`)")
    one("security-scheme-added", "security api-key", "scheme added (API key in header `api-key`)")
    code = {(c["module"], c["name"], c["kind"]) for c in data["generated_code"]}
    assert ("models", "CreateImageEmbeddingRequest", "removed") in code
    assert ("models", "ImageEmbeddingsOptions", "added") in code
    assert ("client", "ModelInferenceClient", "changed") in code
    assert ("server", "ModelInferenceService", "changed") in code
    assert data["summary"]["changes"] == len(data["changes"])


def test_fail_on_breaking_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = _run(capsys, OLD, NEW, "--fail-on-breaking")
    assert code == 1 and out.startswith("# Spec diff: 2024-04-01-preview → 2024-05-01-preview")


def test_a_spec_against_itself_is_not_breaking(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = _run(capsys, NEW, NEW, "--fail-on-breaking", "--format", "json")
    assert code == 0
    assert json.loads(out)["changes"] == [] and json.loads(out)["generated_code"] == []


def test_a_bad_spec_exits_2_with_located_diagnostics(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.1.0\ninfo:\n  title: T\n  version: '1'\npaths:\n  /x:\n"
                   "    get:\n      responses:\n        '200':\n"
                   "          $ref: '#/components/responses/Missing'\n", encoding="utf-8")
    code, out, err = _run(capsys, OLD, str(bad))
    assert code == 2 and out == ""
    assert f"{bad}:10:" in err and "#/paths/~1x/get/responses/200/$ref: E101" in err
    code, _out, err = _run(capsys, str(tmp_path / "missing.yaml"), NEW)
    assert code == 2 and "E001 file not found" in err


def test_the_command_line_entry_point(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "generator", "diff", OLD, NEW,
                             "--fail-on-breaking"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1 and "## Generated code" in result.stdout


def test_readme_shows_the_rules_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    begin, end = "<!-- rules:begin -->\n", "<!-- rules:end -->"
    table = readme[readme.index(begin) + len(begin):readme.index(end)]
    assert table == diff.rules_markdown()


def test_markdown_cells_cannot_be_broken_by_spec_text() -> None:
    assert report._cell("a | b\nc") == "a \\| b c"
    assert report._code("x`y") == "`` x`y ``"
