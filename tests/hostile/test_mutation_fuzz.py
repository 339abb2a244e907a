"""A seeded mutation fuzz of the project's own specs through `generate` and `diff` (issue 11).

Each mutant changes a spec in one of the ways public or hostile specs do: a value of the wrong
kind, deep nesting, huge numbers, strings no text should hold, references to strings or in
cycles, patterns that backtrack for ever, cut-off files, stray bytes. Whatever the mutant, the
generator must answer 0 or 2 (never 1 from a crash, never 3), print one line per diagnostic
naming the file, never a line past its end, and leave the output as it was when it fails.
Bounded in count and in time (MUTANTS, SECONDS; each run under an alarm).
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import main
from tests.conftest import ROOT

SEED = 11
MUTANTS = 300
DIFF_PAIRS = 120
SECONDS = 20.0
RUN_SECONDS = 20  # one generate or diff; a hang fails the test instead of hanging it
BASES = [ROOT / "spec" / "2024-05-01-preview.yaml",
         ROOT / "tests" / "upstream" / "specs" / "features-3.0.yaml",
         ROOT / "tests" / "upstream" / "specs" / "features-3.1.yaml"]
LINE = re.compile(r"^(error|warning): (?P<file>[^ ]+?)(:(?P<line>\d+)(:\d+)?)? #\S* ")


DEEP = re.compile(r'"@deep (\d+) (\w+)@"')


def _deep(match: re.Match[str]) -> str:
    """Deep nesting written as text (json.dumps itself would hit the recursion limit)."""
    depth, kind = int(match.group(1)), match.group(2)
    if kind == "digits":  # an integer too long for int() (written as text, for the same reason)
        return "9" * depth
    opening = {"allOf": '{"allOf": [', "array": '{"type": "array", "items": ',
               "map": '{"a": '}[kind]
    closing = "]}" if kind == "allOf" else "}"
    return opening * depth + '{"type": "string"}' + closing * depth


# What a mutant puts somewhere in a spec.
PALETTE: list[Callable[[random.Random], Any]] = [
    lambda r: None,
    lambda r: r.choice([True, False, 0, -1, 1.5, 7e-1, 10 ** 40]),
    lambda r: f"@deep {r.choice([3999, 4001, 4301, 5000])} digits@",
    lambda r: [1, "two", None],
    lambda r: "x" * 300,
    lambda r: r.choice(["\n", "a\x01b", "\ufffe", "\U0001f600", "\ud800", "\udc00x", "\x7f"]),
    lambda r: {"\n": {"type": "string"}},
    lambda r: f"@deep {r.choice([60, 150, 210, 1100])} {r.choice(['allOf', 'array', 'map'])}@",
    lambda r: {"$ref": "#/info/title"},
    lambda r: {"$ref": "#/components/schemas/Cycle1"},
    lambda r: {"$ref": "#/nowhere"},
    lambda r: {"type": "string", "pattern": "^(a+)+$", "example": "a" * 40 + "!"},
    lambda r: {"type": "number", "minimum": 1e0, "default": 7e-1},
    lambda r: {"oneOf": [{"$ref": "#/components/schemas/Cycle1"}], "discriminator": {
        "propertyName": "kind", "mapping": {"x": "#/nowhere"}}},
    lambda r: {"x-ext": {"discriminator": {"propertyName": "nowhere"}}},
    lambda r: {"required": ["a", "a"], "properties": {"a": {"type": "integer",
                                                            "default": "text"}}},
]


def _places(data: Any) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        found.append(path)
        if isinstance(value, dict):
            stack.extend((item, (*path, key)) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
    return found


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return data


def mutate(base: dict[str, Any], text: str, r: random.Random) -> tuple[str, str]:
    """(file suffix, mutant text)."""
    kind = r.random()
    if kind < 0.2:  # text: cut off, stray characters, a line dropped
        how = r.randrange(3)
        if how == 0:
            return ".yaml", text[:r.randrange(len(text))]
        if how == 1:
            at = r.randrange(len(text))
            return ".yaml", text[:at] + r.choice(["\x00", "\x01", "\ufffe", "\t", ":", "{",
                                                   "- ", "\"", "!!binary aGk=", "&a *a"]) + text[at:]
        lines = text.splitlines(keepends=True)
        del lines[r.randrange(len(lines))]
        return ".yaml", "".join(lines)
    data = copy.deepcopy(base)
    data.setdefault("components", {}).setdefault("schemas", {}).update({
        "Cycle1": {"anyOf": [{"$ref": "#/components/schemas/Cycle2"}]},
        "Cycle2": {"oneOf": [{"$ref": "#/components/schemas/Cycle1"}]},
    } if r.random() < 0.2 else {})
    if kind < 0.3:
        data.setdefault("info", {})["version"] = r.choice(["x" * 300, "1e0", "\n", "é" * 200])
    else:
        places = list(_places(data))
        for _ in range(r.randint(1, 3)):
            data = _set(data, r.choice(places), r.choice(PALETTE)(r))
            places = _places(data)
    # JSON escapes what UTF-8 cannot hold (a lone surrogate); YAML files are JSON too.
    body = json.dumps(data, ensure_ascii=r.random() < 0.5 or _has_surrogate(data))
    return (".json" if r.random() < 0.5 else ".yaml"), DEEP.sub(_deep, body)


def _has_surrogate(data: Any) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@contextlib.contextmanager
def alarm(seconds: int, what: str) -> Iterator[None]:
    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"{what} ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _check_diagnostics(err: str, spec: Path) -> None:
    for line in err.splitlines():
        if line.startswith(("error:", "warning:")):
            found = LINE.match(line)
            assert found, f"diagnostic without a place: {line!r}"
            named = Path(found.group("file"))
            if found.group("line") and named.is_file():
                assert int(found.group("line")) <= named.read_bytes().count(b"\n") + 1, line
        else:  # only the closing sentence, or the summary of `diff`
            assert line.startswith(("nothing was written", str(spec))), line


def _mutants(count: int) -> Iterator[tuple[int, Path, str, str]]:
    r = random.Random(SEED)
    bases = [(path, path.read_text("utf-8")) for path in BASES]
    loaded = [(path, yaml.safe_load(text), text) for path, text in bases]
    for index in range(count):
        path, data, text = loaded[index % len(loaded)]
        suffix, mutant = mutate(data, text, r)
        yield index, path, suffix, mutant


def _with_referenced_files(folder: Path) -> None:
    """The files the base specs reach by $ref, beside the mutants."""
    for base in BASES:
        for sibling in base.parent.glob("*.yaml"):
            (folder / sibling.name).write_bytes(sibling.read_bytes())


def _mutant_files(folder: Path, count: int) -> Iterator[tuple[int, Path, Path]]:
    """(index, base spec, mutant file) for at most `count` mutants and SECONDS."""
    _with_referenced_files(folder)
    started = time.monotonic()
    for index, base, suffix, text in _mutants(count):
        if time.monotonic() - started > SECONDS:
            return
        spec = folder / f"mutant{index}{suffix}"
        spec.write_text(text, encoding="utf-8", errors="surrogatepass")
        yield index, base, spec
        spec.unlink()


def test_generate_never_crashes_on_mutants(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    (out / "earlier_package").mkdir(parents=True)
    (out / "earlier_package" / "models.py").write_text("# an earlier generation\n")
    seen: dict[int, int] = {}
    for index, _base, spec in _mutant_files(tmp_path, MUTANTS):
        before = snapshot(out)
        with alarm(RUN_SECONDS, f"generate on mutant {index}"):
            status = main(["generate", "--spec", str(spec), "--out", str(out), "--check"]
                          if index % 2 else ["generate", "--spec", str(spec), "--out", str(out)])
        err = capsys.readouterr().err
        assert status in (0, 1, 2) if index % 2 else status in (0, 2), (index, status, err)
        assert status != 1 or "differ" in err, (index, err)
        if status != 0:
            assert snapshot(out) == before, f"mutant {index} changed the output"
        if status == 2:
            _check_diagnostics(err, spec)
        seen[status] = seen.get(status, 0) + 1
    assert sum(seen.values()) >= 60, seen  # enough mutants ran to mean something
    assert seen.get(2, 0) > 0 and seen.get(0, 0) > 0, seen


def test_diff_never_crashes_on_mutants(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[int, int] = {}
    for index, base, spec in _mutant_files(tmp_path, DIFF_PAIRS):
        old, new = (base, spec) if index % 2 else (spec, base)
        with alarm(RUN_SECONDS, f"diff with mutant {index}"):
            status = main(["diff", str(old), str(new), "--format", "json"])
        captured = capsys.readouterr()
        assert status in (0, 2), (index, status, captured.err)
        if status == 0:
            json.loads(captured.out)
        seen[status] = seen.get(status, 0) + 1
    assert sum(seen.values()) >= 30, seen
    assert seen.get(2, 0) > 0 and seen.get(0, 0) > 0, seen


@pytest.mark.parametrize("base", BASES, ids=[p.name for p in BASES])
def test_diff_of_a_spec_with_itself(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A recursive union used as additionalProperties once sent `diff F F` to the recursion
    limit."""
    assert main(["diff", str(base), str(base), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []
