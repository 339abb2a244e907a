"""The reviewed migration report 2024-05-01-preview -> OpenAI v1: what a client or a service
moving to the successor API must change. Refreshed only on purpose, then reviewed as a diff:
    make -s diff OLD=spec/2024-05-01-preview.yaml NEW=spec/openai-v1.yaml > tests/diff/golden/2024-05-01-preview_to_openai-v1.md
    make -s diff OLD=spec/2024-05-01-preview.yaml NEW=spec/openai-v1.yaml FORMAT=json > tests/diff/golden/2024-05-01-preview_to_openai-v1.json
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from generator.cli import main
from tests.conftest import ROOT

OLD, NEW = "spec/2024-05-01-preview.yaml", "spec/openai-v1.yaml"
GOLDEN = ROOT / "tests" / "diff" / "golden" / "2024-05-01-preview_to_openai-v1"
REFRESH = "refresh with `make -s diff OLD=... NEW=...` (see this module's docstring) and review it"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    os.chdir(ROOT)
    assert main(["diff", OLD, NEW, *argv]) == 0
    return capsys.readouterr().out


def test_markdown_equals_the_reviewed_golden_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys) == GOLDEN.with_suffix(".md").read_text(encoding="utf-8"), REFRESH


def test_json_equals_the_reviewed_golden_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert json.loads(_run(capsys, "--format", "json")) == json.loads(
        GOLDEN.with_suffix(".json").read_text(encoding="utf-8")), REFRESH


def test_the_migration_says_what_moving_to_openai_v1_changes() -> None:
    """The facts a team moving off the retired API must read, one by one."""
    data = json.loads(GOLDEN.with_suffix(".json").read_text(encoding="utf-8"))
    found = {(c["rule"], c["where"], c["message"]): c for c in data["changes"]}

    def verdict(rule: str, where: str, message: str) -> tuple[bool, bool]:
        change: dict[str, Any] = found[(rule, where, message)]
        return change["breaks_clients"], change["breaks_servers"]

    # Image embeddings and Get Model Info have no OpenAI counterpart.
    assert verdict("operation-removed", "GET /info", "operation GetModelInfo removed") == (True, False)
    assert verdict("operation-removed", "POST /images/embeddings",
                   "operation GetImageEmbeddings removed") == (True, False)
    # No api-version, no extra-parameters header; unknown properties are refused.
    assert verdict("parameter-removed-required", "POST /embeddings query parameter `api-version`",
                   "parameter removed") == (True, True)
    assert verdict("parameter-removed", "POST /embeddings header parameter `extra-parameters`",
                   "parameter removed") == (True, False)
    assert verdict("additional-properties-forbidden",
                   "schema EmbeddingsOptions → CreateEmbeddingRequest",
                   "unknown properties forbidden") == (True, False)
    # The request: model required, input_type gone, user new, only float and base64.
    request = "schema EmbeddingsOptions → CreateEmbeddingRequest"
    assert verdict("property-became-required", f"{request}: `model`", "becomes required") == (
        True, False)
    assert verdict("property-removed", request, "property `input_type` removed") == (True, False)
    assert verdict("property-added", request, "property `user` added") == (False, True)
    for value in ("binary", "int8", "ubinary", "uint8"):
        assert verdict("enum-value-removed", f"{request}: `encoding_format`",
                       f'value "{value}" removed') == (True, False)
    # The answer loses its id; errors take OpenAI's shape; the key travels as a bearer token.
    assert verdict("property-removed-required", "schema EmbeddingsResult → CreateEmbeddingResponse",
                   "property `id` removed") == (True, False)
    error = "schema Azure.Core.Foundations.Error → Error"
    assert verdict("property-added-required", error, "property `type` added (required)") == (
        False, True)
    assert verdict("property-removed", error, "property `details` removed") == (True, False)
    assert verdict("security-scheme-removed", "security api-key",
                   "scheme removed (API key in header `api-key`)") == (True, False)
    assert verdict("security-scheme-added", "security ApiKeyAuth",
                   "scheme added (HTTP bearer)") == (False, True)
    surface = data["generated_code"]
    assert "OpenAIEmbeddingsClient" in json.dumps(surface)
