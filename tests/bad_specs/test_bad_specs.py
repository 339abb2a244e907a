"""One file per kind of bad spec: each must exit 2, print exactly the diagnostics its file
expects (`# expect: ` lines at its end, or a sidecar `<name>.expected` for JSON), and write
nothing. Helper files that some specs reference live in parts/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import main
from tests.conftest import ROOT

HERE = Path(__file__).resolve().parent
CASES = sorted(p for p in HERE.iterdir() if p.suffix in (".yaml", ".json"))
EXPECT = "# expect: "


def expected(path: Path) -> list[str]:
    if path.suffix == ".json":
        return path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    text = path.read_bytes().decode("utf-8", "replace")  # not_utf8.yaml is not UTF-8
    return [line[len(EXPECT):] for line in text.splitlines() if line.startswith(EXPECT)]


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_there_are_at_least_twenty_kinds() -> None:
    assert len(CASES) >= 20
    codes = {line.split(": ", 2)[1].split(" ", 2)[1] for path in CASES for line in expected(path)}
    assert len(codes) >= 20, sorted(codes)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_spec_exits_2_with_its_exact_diagnostics(
        path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "generated"
    (out / "existing_package").mkdir(parents=True)
    (out / "existing_package" / "models.py").write_text("# an earlier generation\n")
    before = snapshot(tmp_path)
    monkeypatch.chdir(HERE)  # diagnostics name the file as it was given
    status = main(["generate", "--spec", path.name, "--out", str(out)])
    stderr = capsys.readouterr().err.splitlines()
    want = expected(path)
    assert want, f"{path.name} says nothing about what it expects"
    assert status == 2
    assert [line for line in stderr if line.startswith(("error:", "warning:"))] == want
    assert stderr[-1] == "nothing was written: fix the problems above first"
    assert snapshot(tmp_path) == before


def test_every_problem_of_every_file_at_once_from_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "generator", "validate", *(p.name for p in CASES)],
        cwd=HERE, capture_output=True, text=True, check=False, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    printed = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert printed == [line for path in CASES for line in expected(path)]
    assert result.stdout == ""
