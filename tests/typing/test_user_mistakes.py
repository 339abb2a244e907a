"""A user's script full of the mistakes people make with a client, checked by mypy --strict
and by pyright, as they would check it: each mistake is reported on its line, and the
correct uses pass.

Each line the checker must flag ends with `# mistake`; every other line must pass.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GENERATED
from tests.typing.test_verifytypes import _pyright

SCRIPT = '''\
import dataclasses

from model_inference_2024_04_01_preview import NotFoundError as NotFound0401
from model_inference_2024_04_01_preview.models import NotFoundError as NotFoundBody
from model_inference_2024_05_01_preview import (
    AsyncModelInferenceClient,
    BadRequestError,
    ModelInferenceClient,
)
from model_inference_2024_05_01_preview import ModelInferenceClinet  # mistake
from model_inference_2024_05_01_preview.models import EmbeddingsOptions, EmbeddingsResult


def sync(client: ModelInferenceClient) -> list[list[float]]:
    client.get_embeddings(input=["a"], dimension=8)  # mistake
    client.get_embeddings(input=["a"], max_retrie=3)  # mistake
    client.get_embeddings()  # mistake
    client.get_embeddings(input={"text": "a"})  # mistake
    client.get_embeddings(input=["a"], dimensions="8")  # mistake
    client.get_embeddings(input=["a"], extra_body={"top_k": 3}, max_retries=1, timeout=5.0)
    client.get_embeddings_from_body(EmbeddingsOptions(input=["a"]))
    client.get_embeddings_from_body({"input": ["a"]})  # mistake
    result = client.get_embeddings(input=["a"], encoding_format="base64")
    floats: list[list[float]] = result.vectors("float")
    from_base64: list[list[float]] = result.vectors("base64")
    ints: list[list[int]] = result.vectors("int8")
    wrong: list[list[float]] = result.vectors("uint8")  # mistake
    first: list[float] = result.data[0].vector("float")
    raw = client.with_raw_response.get_embeddings(input=["a"])
    parsed: EmbeddingsResult = raw.parse()
    client.with_raw_response.get_embeddings(input=["a"], dimension=8)  # mistake
    del floats, from_base64, ints, wrong, first, parsed
    return result.vectors()


async def asynchronous(client: AsyncModelInferenceClient) -> EmbeddingsResult:
    client.get_embeddings(input=["a"], dimension=8)  # mistake
    raw = await client.with_raw_response.get_embeddings(input=["a"])
    text: str = raw.parse()  # mistake
    del text
    return await client.get_embeddings(input=["a"])


def models() -> EmbeddingsOptions:
    EmbeddingsOptions(input=["a"], dimension=8)  # mistake
    EmbeddingsOptions()  # mistake
    EmbeddingsOptions(["a"])  # mistake
    options = EmbeddingsOptions(input=["a"], dimensions=8, additional_properties={"seed": 1})
    options.dimension = 8  # mistake
    options.dimensions = None
    return dataclasses.replace(options, dimensions=8)


def errors(error: BadRequestError, missing: NotFound0401) -> None:
    body: NotFoundBody | None = missing.error
    code: int = error.status_code
    del body, code
'''

MISTAKE = re.compile(r"#\s*mistake\s*$")


def _mistake_lines(script: str) -> set[int]:
    return {number for number, line in enumerate(script.splitlines(), 1) if MISTAKE.search(line)}


def _reported_lines(output: str, name: str) -> set[int]:
    return {int(m.group(1)) for m in re.finditer(rf"^{re.escape(name)}:(\d+): error", output,
                                                    re.MULTILINE)}


def test_mypy_strict_reports_each_mistake_and_accepts_the_correct_uses(tmp_path: Path) -> None:
    script = tmp_path / "user_script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
         str(tmp_path / "cache"), "--show-error-codes", "--no-error-summary", script.name],
        cwd=tmp_path, capture_output=True, text=True, check=False,
        env={"MYPYPATH": str(GENERATED), "PATH": "/usr/bin:/bin"})
    expected = _mistake_lines(SCRIPT)
    reported = _reported_lines(result.stdout, script.name)
    assert len(expected) == 15
    assert reported == expected, (
        f"missed: {sorted(expected - reported)}, wrongly flagged: {sorted(reported - expected)}"
        f"\n{result.stdout}{result.stderr}")


def test_pyright_reports_each_mistake_and_accepts_the_correct_uses(tmp_path: Path) -> None:
    script = tmp_path / "user_script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    result = subprocess.run(
        [_pyright(), "--pythonpath", sys.executable, script.name],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "PYTHONPATH": str(GENERATED)})
    reported = {int(m.group(1)) for m in re.finditer(
        rf"{re.escape(script.name)}:(\d+):\d+ - error", result.stdout)}
    if not reported and "npm" in (result.stdout + result.stderr).lower():
        pytest.skip(f"pyright could not be fetched: {result.stderr.strip()[-300:]}")
    expected = _mistake_lines(SCRIPT)
    assert reported == expected, (
        f"missed: {sorted(expected - reported)}, wrongly flagged: {sorted(reported - expected)}"
        f"\n{result.stdout}{result.stderr}")
