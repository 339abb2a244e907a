"""Black, applied to rendered modules: the one place generated text is formatted.

Formatting is the generator's dominant cost (black handles about 2,000 to 5,000 lines a
second on a small machine, and a 1,000-schema spec renders some 80,000 lines), so:

- the output of black is cached on disk, keyed by the black version, the mode and the exact
  input text: an unchanged module (a `generate --check`, a regeneration after editing one
  spec) is not formatted again. The bytes are black's either way. The cache lives in
  `$EMBEDDINGS_CODEGEN_CACHE`, else `$XDG_CACHE_HOME/embeddings-codegen`, else
  `~/.cache/embeddings-codegen`; `EMBEDDINGS_CODEGEN_CACHE=off` disables it.
- modules still to format are formatted in parallel processes (forked, one per core) when
  there is enough text to be worth it;
- black is imported only when something has to be formatted.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

LINE_LENGTH = 100
# Below this much text to format, forking workers costs more than it saves.
_PARALLEL_MIN_CHARS = 400_000


@cache
def _mode() -> Any:
    import black

    return black.Mode(target_versions={black.TargetVersion.PY311}, line_length=LINE_LENGTH)


def _format(name: str, text: str) -> str:
    import black

    try:
        return str(black.format_str(text, mode=_mode()))
    except black.InvalidInput as exc:  # a generator bug, never a spec problem: say where
        raise RuntimeError(f"generated {name} is not valid Python: {exc}") from exc


def _cache_dir() -> Path | None:
    configured = os.environ.get("EMBEDDINGS_CODEGEN_CACHE")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "no") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "embeddings-codegen"


def _key(text: str) -> str:
    try:
        version = metadata.version("black")
    except metadata.PackageNotFoundError:  # pragma: no cover - black is a dependency
        version = "?"
    seed = f"black {version} line-length {LINE_LENGTH} py311\0".encode()
    return hashlib.sha256(seed + text.encode("utf-8")).hexdigest()


def _read(folder: Path | None, key: str) -> str | None:
    if folder is None:
        return None
    try:
        return (folder / key[:2] / key).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _store(folder: Path | None, key: str, text: str) -> None:
    if folder is None:
        return
    try:
        target = folder / key[:2] / key
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(temporary, target)
    except OSError:
        pass  # a cache that cannot be written only costs time


def format_modules(modules: Mapping[str, str]) -> dict[str, str]:
    """{name: black(text)} for every module, in the order given."""
    folder = _cache_dir()
    keys = {name: _key(text) for name, text in modules.items()}
    done: dict[str, str] = {}
    todo: list[str] = []
    for name in modules:
        cached = _read(folder, keys[name])
        if cached is None:
            todo.append(name)
        else:
            done[name] = cached
    workers = min(len(todo), os.cpu_count() or 1)
    if workers > 1 and sum(len(modules[n]) for n in todo) >= _PARALLEL_MIN_CHARS \
            and "fork" in _start_methods():
        import multiprocessing

        # Largest first, so that the biggest module starts at once.
        order = sorted(todo, key=lambda n: -len(modules[n]))
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_format, order, [modules[n] for n in order]))
        fresh = dict(zip(order, results, strict=True))
    else:
        fresh = {name: _format(name, modules[name]) for name in todo}
    for name, text in fresh.items():
        _store(folder, keys[name], text)
    done.update(fresh)
    return {name: done[name] for name in modules}


def _start_methods() -> list[str]:
    import multiprocessing

    return list(multiprocessing.get_all_start_methods())
