"""The command line: exit codes, messages that say where, and nothing lost on failure."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import main
from tests.conftest import ROOT

GOOD = (ROOT / "spec" / "2024-05-01-preview.yaml").read_text(encoding="utf-8")


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(check=False, args=[sys.executable, "-m", "generator", *args], cwd=cwd,
                          capture_output=True, text=True, env={"PYTHONPATH": str(ROOT),
                                                              "PATH": "/usr/bin:/bin"})


def test_help_explains_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "generate" in result.stdout and "validate" in result.stdout
    sub = run("generate", "--help")
    for option in ("--spec", "--out", "--check"):
        assert option in sub.stdout


def test_generate_into_a_directory_then_check(tmp_path: Path, write_spec) -> None:  # type: ignore[no-untyped-def]
    spec = write_spec(GOOD, "2024-05-01-preview.yaml")
    out = tmp_path / "out"
    assert run("generate", "--spec", str(spec), "--out", str(out)).returncode == 0
    assert (out / "model_inference_2024_05_01_preview" / "models.py").is_file()
    assert run("generate", "--spec", str(spec), "--out", str(out), "--check").returncode == 0
    (out / "model_inference_2024_05_01_preview" / "models.py").write_text("# edited\n")
    (out / "model_inference_2024_05_01_preview" / "stray.py").write_text("# left over\n")
    result = run("generate", "--spec", str(spec), "--out", str(out), "--check")
    assert result.returncode == 1
    assert "model_inference_2024_05_01_preview/models.py" in result.stdout
    assert "model_inference_2024_05_01_preview/stray.py" in result.stdout
    assert (out / "model_inference_2024_05_01_preview" / "models.py").read_text() == "# edited\n"


def test_regeneration_keeps_a_hand_written_patch_file(tmp_path: Path, write_spec) -> None:  # type: ignore[no-untyped-def]
    spec = write_spec(GOOD, "2024-05-01-preview.yaml")
    out = tmp_path / "out"
    assert run("generate", "--spec", str(spec), "--out", str(out)).returncode == 0
    patch = out / "model_inference_2024_05_01_preview" / "_patch.py"
    patch.write_text("__all__ = ['helper']\n\ndef helper() -> int:\n    return 42\n")
    assert run("generate", "--spec", str(spec), "--out", str(out)).returncode == 0
    assert patch.read_text().startswith("__all__")
    code = "import model_inference_2024_05_01_preview as p; print(p.helper())"
    result = subprocess.run(check=False, args=[sys.executable, "-c", code], cwd=out, capture_output=True,
                            text=True)
    assert result.stdout.strip() == "42", result.stderr


def test_a_bad_spec_exits_2_names_every_problem_and_writes_nothing(
        tmp_path: Path, write_spec) -> None:  # type: ignore[no-untyped-def]
    good = write_spec(GOOD, "2024-05-01-preview.yaml")
    out = tmp_path / "out"
    assert run("generate", "--spec", str(good), "--out", str(out)).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad_text = GOOD.replace("format: int32\n          description: Index", "format: 32\n          description: Index")
    bad_text = bad_text.replace("$ref: '#/components/schemas/EmbeddingsUsage'",
                                "$ref: '#/components/schemas/EmbeddingUsage'")
    bad = write_spec(bad_text, "bad.yaml")
    result = run("generate", "--spec", str(good), "--spec", str(bad), "--out", str(out))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) >= 2, result.stderr
    for line in lines:
        assert re.match(r"error: \S+bad\.yaml:\d+:\d+ #/\S* E\d{3} ", line), line
    assert any("#/components/schemas/EmbeddingItem/properties/index/format" in line
               for line in lines), result.stderr
    assert any("EmbeddingUsage" in line and "unresolved $ref" in line for line in lines)
    assert "nothing was written" in result.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_validate_command(write_spec, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["validate", str(write_spec(GOOD))]) == 0
    assert main(["validate", str(write_spec("openapi: 4.0.0\n", "x.yaml"))]) == 2
    assert "E010 unsupported OpenAPI version '4.0.0'" in capsys.readouterr().err


def test_a_failure_during_the_swaps_puts_every_package_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import generator.write as write_module

    out = tmp_path / "out"
    old = {"pkga/__init__.py": "# a old\n", "pkgb/__init__.py": "# b old\n"}
    write_module.write(old, out)
    real_replace = os.replace
    calls = {"n": 0}

    def failing_replace(src: object, dst: object) -> None:
        calls["n"] += 1
        if calls["n"] == 4:  # pkga: aside, in; pkgb: aside, then the swap-in fails
            raise OSError("disk gone")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(write_module.os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_module.write({"pkga/__init__.py": "# a new\n", "pkgb/__init__.py": "# b new\n"}, out)
    monkeypatch.setattr(write_module.os, "replace", real_replace)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "pkga", "pkga/__init__.py", "pkgb", "pkgb/__init__.py"]  # no staging left behind
    assert (out / "pkga/__init__.py").read_text() == "# a old\n"
    assert (out / "pkgb/__init__.py").read_text() == "# b old\n"


def test_packages_no_spec_generates_are_flagged_and_removed(tmp_path: Path, write_spec) -> None:  # type: ignore[no-untyped-def]
    spec = write_spec(GOOD, "2024-05-01-preview.yaml")
    out = tmp_path / "out"
    assert run("generate", "--spec", str(spec), "--out", str(out)).returncode == 0
    old = out / "model_inference_2023_01_01"
    old.mkdir()
    (old / "__init__.py").write_text("# Code generated by embeddings-codegen 0.0.1 from x. "
                                     "DO NOT EDIT.\n")
    (out / "handwritten").mkdir()
    (out / "handwritten" / "__init__.py").write_text("# mine\n")
    spec_dir = spec.parent
    result = run("generate", "--check", "--out", str(out), cwd=spec_dir.parent)
    assert result.returncode == 1 and "no longer generated" in result.stdout, result.stdout
    assert run("generate", "--out", str(out), cwd=spec_dir.parent).returncode == 0
    assert not old.exists() and (out / "handwritten" / "__init__.py").exists()
    assert run("generate", "--check", "--out", str(out), cwd=spec_dir.parent).returncode == 0


def test_an_internal_error_exits_3_and_writes_nothing(
        tmp_path: Path, write_spec, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
        capsys: pytest.CaptureFixture[str]) -> None:
    import generator.render as render_module

    def broken(api: object) -> dict[str, str]:
        raise RuntimeError("generated code is not valid Python: m0.py:1:5: bad")

    monkeypatch.setattr(render_module, "render", broken)
    out = tmp_path / "out"
    assert main(["generate", "--spec", str(write_spec(GOOD)), "--out", str(out)]) == 3
    assert "internal error" in capsys.readouterr().err and not out.exists()


INLINE_BODY = """\
openapi: 3.1.0
info: {title: Inline, version: "1.0"}
paths:
  /articles:
    post:
      operationId: createArticle
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [article]
              properties:
                article:
                  type: object
                  properties:
                    title: {type: string}
      responses:
        "201": {description: created}
"""


def test_an_inline_request_body_generates_and_diffs(tmp_path: Path, write_spec) -> None:  # type: ignore[no-untyped-def]
    # Its fields name the method's keywords before the inline model was lowered (a KeyError).
    spec = write_spec(INLINE_BODY, "inline.yaml")
    out = tmp_path / "out"
    result = run("generate", "--spec", str(spec), "--out", str(out))
    assert result.returncode == 0, result.stderr
    client = (out / "inline_1_0" / "client.py").read_text()
    assert "article:" in client
    assert run("diff", str(spec), str(spec)).returncode == 0


def test_an_unexpected_exception_is_exit_3_with_a_short_message(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr("generator.cli.lower", broken)
    monkeypatch.delenv("EMBEDDINGS_CODEGEN_DEBUG", raising=False)
    assert main(["validate", str(ROOT / "spec" / "2024-05-01-preview.yaml")]) == 3
    err = capsys.readouterr().err
    assert "internal error: KeyError" in err and "please report" in err
    assert "Traceback" not in err


NO_OPERATIONS = """\
openapi: 3.1.0
info: {title: Hooks only, version: "1.0"}
webhooks:
  newPet:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string}}}
      responses:
        "200": {description: ok}
"""

LONG_EXAMPLE = """\
openapi: 3.1.0
info: {title: Long, version: "1.0"}
paths:
  /articles:
    post:
      operationId: createArticle
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                title: {type: string}
                body: {type: string}
                description: {type: string}
            examples:
              dragon:
                value:
                  title: How to train your dragon, and whether it works at all
                  body: You have to believe
                  description: Ever wonder how to train a dragon?
      responses:
        "201": {description: created}
"""


@pytest.mark.parametrize(("text", "name"), [(NO_OPERATIONS, "hooks.yaml"),
                                            (LONG_EXAMPLE, "long.yaml")])
def test_every_generated_file_is_lint_clean_and_formatted(
        tmp_path: Path, write_spec, text: str, name: str) -> None:  # type: ignore[no-untyped-def]
    # Imports follow what the module uses (a spec with no operations imports no call
    # machinery); the README's example goes through the same formatter as the modules.
    from generator.formatting import _ruff_binary

    out = tmp_path / "out"
    result = run("generate", "--spec", str(write_spec(text, name)), "--out", str(out))
    assert result.returncode == 0, result.stderr
    common = ["--isolated", "--line-length", "100", str(out)]
    check = subprocess.run([_ruff_binary(), "check", *common], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout
    formatted = subprocess.run([_ruff_binary(), "format", "--check", *common],
                               capture_output=True, text=True, check=False)
    assert formatted.returncode == 0, formatted.stdout
