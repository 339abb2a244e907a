"""Stage 0 for TypeSpec input: a TypeSpec project -> one OpenAPI 3.1 document per version.

The project is compiled by the official compiler, pinned in the repository's `package.json`
and `package-lock.json` and installed by `npm ci` into `node_modules/` on first use (as
`.venv` is built from pyproject.toml). `typespec_compile.mjs` runs the compiler and the
`@typespec/openapi3` emitter in memory and answers in JSON: the compiler's diagnostics, and
for each version of the service's `@versioned` enum (one for an unversioned service) the
OpenAPI document with a map from its JSON pointers to the .tsp declarations they come from.
Each document then goes through the usual stages as an in-memory `LoadedSpec`; whatever those
report about it is pinned back on the .tsp source and names the version (`attribute`).

Only TypeSpec input needs Node: nothing here runs for OpenAPI or Swagger specs.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.diagnostics import Diagnostic, SpecError
from generator.load import Document, LoadedSpec

# The toolchain lives beside the generator package in a checkout: package.json, the lockfile
# and, once installed, node_modules/.
TOOLCHAIN_ROOT = Path(__file__).resolve().parent.parent
COMPILE_SCRIPT = Path(__file__).resolve().parent / "typespec_compile.mjs"
MIN_NODE_MAJOR = 20
_STAMP = ".embeddings-codegen-stamp"  # in node_modules/: the lockfile's hash once `npm ci` ran
_COMPILE_TIMEOUT_S = 300
_INSTALL_TIMEOUT_S = 900


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceDiagnostic(Diagnostic):
    """A problem in a .tsp file (or with the toolchain): `file.tsp:line:col: code message`."""

    def format(self) -> str:
        return f"{self.where()}: {self.code} {self.message}"


class ToolchainError(SpecError):
    """Node, npm or the pinned compiler cannot be run: exit 2 with what to do about it."""

    def __init__(self, label: str, code: str, message: str) -> None:
        super().__init__([SourceDiagnostic(level="error", code=code, file=label, pointer="",
                                           message=message)])


def is_typespec(path: Path) -> bool:
    """A .tsp file, or a directory holding a main.tsp (a TypeSpec project)."""
    return path.suffix == ".tsp" or (path.is_dir() and (path / "main.tsp").is_file())


def split_version(argument: str) -> tuple[str, str | None]:
    """`project/main.tsp@2024-05-01-preview` -> (`project/main.tsp`, `2024-05-01-preview`).

    Only a TypeSpec path takes a version: `spec@v1.yaml` stays a file name.
    """
    path, at, version = argument.rpartition("@")
    if at and version and is_typespec(Path(path)) and not Path(argument).exists():
        return path, version
    return argument, None


# ---- the compiled project -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Version:
    """One OpenAPI document of a TypeSpec project: a version of its service, or the only one."""

    project: Project
    name: str | None  # the version's value, e.g. "2024-05-01-preview"; None when unversioned
    member: str | None  # its member in the @versioned enum, e.g. "v2024_05_01_preview"
    spec: LoadedSpec  # the emitted OpenAPI 3.1 document, in memory
    sources: dict[str, tuple[str, int, int]]  # JSON pointer -> (.tsp label, line, column)

    @property
    def label(self) -> str:
        return f"{self.project.label}@{self.name}" if self.name else self.project.label

    def _source(self, pointer: str) -> tuple[str, int, int] | None:
        while True:
            found = self.sources.get(pointer)
            if found is not None or not pointer:
                return found
            pointer = pointer.rsplit("/", 1)[0]

    def attribute(self, diagnostic: Diagnostic) -> Diagnostic:
        """A diagnostic on the emitted OpenAPI, placed at the .tsp declaration its pointer
        comes from, and naming the version whose document it is about."""
        source = self._source(diagnostic.pointer)
        file, line, column = source if source else (self.project.label, None, None)
        what = f"version {self.name}" if self.name else "the unversioned service"
        return dataclasses.replace(
            diagnostic, file=file, line=line, column=column,
            message=f"{diagnostic.message} (in the OpenAPI emitted for {what} of "
                    f"{self.project.label})")

    def locate(self, pointer: str) -> tuple[str, int | None]:
        """diff's locator: (file, line) of the .tsp declaration behind a pointer."""
        source = self._source(pointer)
        return (source[0], source[1]) if source else (self.label, None)


@dataclass(frozen=True, slots=True)
class Project:
    main: Path  # absolute path of the main .tsp file
    label: str  # how diagnostics name it
    compiler: str  # @typespec/compiler version
    versions: tuple[Version, ...]
    warnings: tuple[Diagnostic, ...]  # the compiler's and the emitter's warnings
    seconds: float  # wall time of the compiler process, Node's start-up included
    timings: dict[str, float]  # the script's own: compile_ms, emit_ms

    def select(self, name: str | None) -> Version:
        """The version named by its value or enum member; the newest when none is named."""
        if name is None:
            return self.versions[-1]
        for version in self.versions:
            if name in (version.name, version.member):
                return version
        if all(version.name is None for version in self.versions):
            raise ToolchainError(self.label, "T010", f"version {name!r} named, but the project "
                                 "has no @versioned service")
        known = ", ".join(str(v.name) for v in self.versions)
        raise ToolchainError(self.label, "T010", f"no version {name!r}: the project declares "
                             f"{known}")


# ---- the toolchain --------------------------------------------------------------------------


def _lock_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((root / name).read_bytes())
    return digest.hexdigest()


def _node(label: str) -> str:
    node = shutil.which("node")
    if node is None:
        raise ToolchainError(label, "T001", "TypeSpec input needs Node.js "
                             f"{MIN_NODE_MAJOR} or later, and `node` is not on PATH (install "
                             "Node.js, e.g. `apt-get install nodejs npm`; OpenAPI and Swagger "
                             "specs need no Node)")
    try:
        found = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60,
                               check=True).stdout.strip()
        major = int(found.lstrip("v").split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError):
        raise ToolchainError(label, "T001", f"`{node} --version` failed: it does not look "
                             "like Node.js") from None
    if major < MIN_NODE_MAJOR:
        raise ToolchainError(label, "T002", f"TypeSpec input needs Node.js {MIN_NODE_MAJOR} or "
                             f"later; {node} is {found}")
    return node


def ensure_toolchain(label: str, root: Path = TOOLCHAIN_ROOT) -> str:
    """The path of `node`, with the pinned compiler installed (`npm ci`, once per lockfile)."""
    if not (root / "package-lock.json").is_file():
        raise ToolchainError(label, "T004", f"the pinned TypeSpec toolchain (package.json and "
                             f"package-lock.json) is not in {root}: TypeSpec input needs a "
                             "checkout of the generator")
    node = _node(label)
    wanted = _lock_hash(root)
    stamp = root / "node_modules" / _STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == wanted:
        return node
    npm = shutil.which("npm")
    if npm is None:
        raise ToolchainError(label, "T003", "TypeSpec input needs npm to install the pinned "
                             "compiler (`npm ci`, once), and `npm` is not on PATH (install it, "
                             "e.g. `apt-get install npm`)")
    # One install at a time: two generators started together must not both run `npm ci`.
    with open(root / ".npm-install.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == wanted:
            return node
        print("installing the pinned TypeSpec toolchain (npm ci, once)...", file=sys.stderr)
        try:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=root,
                capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_S, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ToolchainError(label, "T004", f"`npm ci` in {root} failed: {exc}") from None
        if done.returncode != 0:
            tail = " ".join(done.stderr.strip().splitlines()[-3:])[:500]
            raise ToolchainError(label, "T004", f"`npm ci` in {root} failed (exit "
                                 f"{done.returncode}): {tail}")
        stamp.write_text(wanted + "\n", encoding="utf-8")
    return node


# ---- compiling ------------------------------------------------------------------------------


def _label(path: Path, main: tuple[Path, str] | None = None) -> str:
    """A .tsp file as diagnostics name it: the main file as it was given, another relative to
    the working directory when inside it."""
    if main is not None and path.resolve() == main[0]:
        return main[1]
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _diagnostic(raw: dict[str, Any], main: tuple[Path, str]) -> Diagnostic:
    file = raw.get("file")
    return SourceDiagnostic(
        level="error" if raw.get("severity") == "error" else "warning",
        code=str(raw.get("code") or "typespec"), file=_label(Path(file), main) if file else main[1],
        pointer="", message=str(raw.get("message") or "").replace("\n", " "),
        line=raw.get("line"), column=raw.get("column"))


def _source_hash(main: Path, files: Sequence[str]) -> str:
    """The main file's sha256; with imported .tsp files, one hash over all of them (each one's
    name relative to the main file and its own hash, in name order), as for `$ref`ed files."""
    paths = sorted({Path(f).resolve() for f in files} | {main})
    if paths == [main]:
        return hashlib.sha256(main.read_bytes()).hexdigest()
    parts = sorted(
        f"{os.path.relpath(p, main.parent).replace(os.sep, '/')}\0"
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}\n" for p in paths)
    return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()


_compiled: dict[tuple[Path, float, str], Project] = {}


def compile_project(path: Path) -> Project:
    """Compile a TypeSpec project (its main .tsp, or a directory holding main.tsp).

    Raises SpecError with the compiler's diagnostics (`file.tsp:line:col: code message`) when
    it reports an error, ToolchainError when Node, npm or the compiler cannot run.
    """
    given = path / "main.tsp" if path.is_dir() else path
    label = str(given)
    main = given.resolve()
    if not main.is_file():
        raise ToolchainError(label, "E001", "file not found")
    key = (main, main.stat().st_mtime, label)
    if key in _compiled:
        return _compiled[key]
    node = ensure_toolchain(label)
    started = time.perf_counter()
    try:
        done = subprocess.run([node, str(COMPILE_SCRIPT), str(main)], capture_output=True,
                              timeout=_COMPILE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ToolchainError(label, "T005", f"the TypeSpec compiler did not finish within "
                             f"{_COMPILE_TIMEOUT_S} s") from None
    except OSError as exc:
        raise ToolchainError(label, "T005", f"cannot run {node}: {exc.strerror}") from None
    seconds = time.perf_counter() - started
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = None
    if done.returncode != 0 or not isinstance(result, dict):
        error = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ToolchainError(label, "T005", "the TypeSpec compiler failed (exit "
                             f"{done.returncode}): {' '.join(error[-3:])[:500]}")
    diagnostics = [_diagnostic(d, (main, label)) for d in result["diagnostics"]]
    if any(d.level == "error" for d in diagnostics):
        raise SpecError(diagnostics)
    if not result["documents"]:
        raise ToolchainError(label, "T011", "the project declares no service: mark its "
                             "namespace with @service")
    sha256 = _source_hash(main, result["files"])
    versions: list[Version] = []
    for entry in result["documents"]:
        name = entry["version"]
        for raw in entry["diagnostics"]:  # the OpenAPI emitter's, about this version
            emitted = _diagnostic(raw, (main, label))
            diagnostics.append(dataclasses.replace(
                emitted, message=f"{emitted.message} (emitting version {name})" if name
                else emitted.message))
        document = Document(
            path=main, label=f"{label}@{name}" if name else label, data=entry["document"],
            positions={}, sha256=sha256)
        sources = {pointer: (_label(Path(where["file"]), (main, label)), where["line"],
                             where["column"])
                   for pointer, where in entry["sources"].items()}
        versions.append(Version(None, name, entry["member"],  # type: ignore[arg-type]
                                LoadedSpec(root=document, documents={main: document}), sources))
    if any(d.level == "error" for d in diagnostics):
        raise SpecError(diagnostics)
    project = Project(main=main, label=label, compiler=str(result["compiler"]),
                      versions=tuple(versions), warnings=tuple(diagnostics), seconds=seconds,
                      timings=dict(result["timings"]))
    for version in versions:  # each Version points at the finished Project
        object.__setattr__(version, "project", project)
    _compiled[key] = project
    return project



def main(argv: Sequence[str] | None = None) -> int:
    """`python -m generator.typespec [install]`: install the pinned toolchain now (make test
    does); `python -m generator.typespec emit main.tsp --out DIR`: write the OpenAPI documents
    the generator reads, one per version, to look at what a diagnostic's pointer names."""
    import argparse

    import yaml

    parser = argparse.ArgumentParser(prog="python -m generator.typespec",
                                     description=main.__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("install", help="install the pinned compiler (npm ci) if needed")
    emit = commands.add_parser("emit", help="write the OpenAPI 3.1 document of each version")
    emit.add_argument("project", help="main.tsp, main.tsp@VERSION or its directory")
    emit.add_argument("--out", default=".", help="directory (default: the current one)")
    args = parser.parse_args(argv)
    try:
        if args.command != "emit":
            ensure_toolchain("package.json")
            print(f"TypeSpec toolchain ready in {TOOLCHAIN_ROOT / 'node_modules'}")
            return 0
        path, version = split_version(args.project)
        project = compile_project(Path(path))
        chosen = [project.select(version)] if version else list(project.versions)
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            print(f"{diagnostic.level}: {diagnostic.format()}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for chosen_version in chosen:
        target = out / f"{chosen_version.name or project.main.stem}.openapi.yaml"
        target.write_text(yaml.safe_dump(chosen_version.spec.root.data, sort_keys=False,
                                         allow_unicode=True, width=100), encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
