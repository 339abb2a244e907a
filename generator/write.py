"""Stage 5: the only writer. Replaces generated package directories atomically.

Every file of every package is rendered before anything is written; each package is then
written to a temporary sibling directory and swapped in with renames, so a failure at any
point leaves the output directory exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

# Hand-written files that live inside a generated package and survive regeneration.
PRESERVED = frozenset({"_patch.py"})


def packages_of(files: dict[str, str]) -> set[str]:
    return {path.split("/", 1)[0] for path in files}


def differences(files: dict[str, str], out: Path) -> list[str]:
    """Paths (relative to `out`) whose content on disk differs from `files`: changed, missing
    or no longer generated."""
    changed = []
    for path, text in sorted(files.items()):
        target = out / path
        try:
            if target.read_bytes() != text.encode("utf-8"):
                changed.append(path)
        except FileNotFoundError:
            changed.append(path)
    for package in sorted(packages_of(files)):
        root = out / package
        if not root.is_dir():
            continue
        for existing in sorted(root.rglob("*")):
            relative = existing.relative_to(out).as_posix()
            if (existing.is_file() and relative not in files and existing.name not in PRESERVED
                    and "__pycache__" not in existing.parts):
                changed.append(relative)
    return changed


def write(files: dict[str, str], out: Path) -> None:
    """Write every package in `files` under `out`, each replaced as a whole."""
    out.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for package in sorted(packages_of(files)):
            staging = Path(tempfile.mkdtemp(prefix=f".{package}.", dir=out))
            os.chmod(staging, 0o755)  # mkdtemp makes it private
            staged.append((staging, out / package))
            for path, text in files.items():
                if path.split("/", 1)[0] != package:
                    continue
                target = staging / path.split("/", 1)[1]
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "w", encoding="utf-8", newline="\n") as handle:
                    handle.write(text)
            for name in PRESERVED:
                kept = out / package / name
                if kept.is_file():
                    shutil.copy2(kept, staging / name)
    except BaseException:
        for staging, _ in staged:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    for staging, final in staged:
        _swap(staging, final)


def _swap(staging: Path, final: Path) -> None:
    """Put `staging` at `final`; the old directory is removed only once the new one is in place."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
