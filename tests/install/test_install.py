"""Installing, as users do, in fresh virtual environments (no access to the project's .venv):

- a generated package: `pip install generated/<pkg>` and its wheel, with httpx its only
  dependency, typed (py.typed) and importable;
- the generator itself: `pip install .` and its wheel (not editable) run
  `embeddings-codegen generate`, with the templates and the runtime inside the package.

Each installs from the package index pip is configured with; without one reachable the tests
skip, saying so. Copies are installed, so that no build files land in the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import GENERATED, ROOT, SPEC_DIR

PACKAGE = "model_inference_2024_05_01_preview"
NO_INDEX = ("No matching distribution found", "Could not find a version",
            "Failed to establish a new connection", "Network is unreachable")


def _fresh_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def _pip(python: Path, *args: str) -> None:
    result = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args],
                            capture_output=True, text=True, check=False, timeout=900)
    if result.returncode != 0:
        if any(text in result.stdout + result.stderr for text in NO_INDEX):
            pytest.skip(f"no package index reachable: {result.stderr.strip()[-300:]}")
        raise AssertionError(result.stdout + result.stderr)


def _run(python: Path, code: str, cwd: Path) -> str:
    result = subprocess.run([str(python), "-c", code], cwd=cwd, capture_output=True,
                            text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_generated_package_installs_and_builds_a_wheel(tmp_path: Path) -> None:
    source = tmp_path / "src" / PACKAGE
    shutil.copytree(GENERATED / PACKAGE, source,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    python = _fresh_venv(tmp_path / "venv")
    _pip(python, "install", "--quiet", str(source))
    out = _run(python, f"""
import importlib.metadata as md, pathlib, sys
import httpx
before = set(sys.modules)
import {PACKAGE} as pkg
from {PACKAGE} import ModelInferenceClient
assert "asyncio" not in sys.modules, "the sync client imported asyncio"
# Its import cost is the package's own modules: nothing beyond what httpx imports (such as
# dataclasses, or uuid with platform) is loaded with it (bench/run.py --only import).
added = sorted(m for m in set(sys.modules) - before if m.split(".")[0] != "{PACKAGE}")
assert not added, f"the sync client imported {{added}} beyond httpx"
from {PACKAGE} import AsyncModelInferenceClient
dist = md.distribution("{PACKAGE.replace('_', '-')}")
print(dist.version)
print(sorted(dist.requires or []))
print((pathlib.Path(pkg.__file__).parent / "py.typed").is_file())
""", tmp_path)
    version, requires, typed = out.splitlines()
    assert version.startswith("0.") and version.endswith("+api.2024.5.1.preview")
    # httpx its only dependency; numpy, and the server's orjson and msgspec, only as extras
    assert requires == (
        """['httpx<1,>=0.27', 'msgspec>=0.23; extra == "fast"', 'numpy>=1.26; extra == "numpy"', """
        """'orjson>=3.10; extra == "fast"']"""
    )
    assert typed == "True"
    _pip(python, "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "dist"), str(source))
    [wheel] = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"{PACKAGE}/py.typed", f"{PACKAGE}/client.py", f"{PACKAGE}/_http.py",
            f"{PACKAGE}/server.py", f"{PACKAGE}/_asgi.py"} <= names
    assert not any(name.endswith(("pyproject.toml", "README.md")) and name.startswith(PACKAGE)
                   for name in names)


def test_the_generator_installs_and_generates_from_its_wheel(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "generator", source / "generator",
                    ignore=shutil.ignore_patterns("__pycache__"))
    work = tmp_path / "work"
    shutil.copytree(SPEC_DIR, work / "spec")
    # `pip install .`, not editable
    python = _fresh_venv(tmp_path / "venv")
    _pip(python, "install", "--quiet", str(source))
    tool = python.parent / "embeddings-codegen"
    result = subprocess.run([str(tool), "generate"], cwd=work, capture_output=True, text=True,
                            check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for package in (p.name for p in GENERATED.iterdir() if (p / "__init__.py").is_file()):
        for path in (GENERATED / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                made = work / "generated" / path.relative_to(GENERATED)
                assert made.read_bytes() == path.read_bytes(), made
    # its wheel, in another fresh environment
    _pip(python, "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "dist"), str(source))
    [wheel] = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "generator/templates/client.py.jinja" in names
    assert "generator/runtime/_http.py" in names
    other = _fresh_venv(tmp_path / "venv2")
    _pip(other, "install", "--quiet", str(wheel))
    shutil.rmtree(work / "generated")
    result = subprocess.run([str(other.parent / "embeddings-codegen"), "generate"], cwd=work,
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (work / "generated" / PACKAGE / "_asgi.py").is_file()
