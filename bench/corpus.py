"""The corpus run: every public spec in ../shared/corpus/ through the generator and through
openapi-python-client, side by side. `make corpus` runs it in .bench-venv.

    python bench/corpus.py [--only SUBSTRING] [--no-peer] [--no-mypy] [--jobs 1]

For each spec that openapi-spec-validator accepts: our exit code, wall time and peak RSS of
the whole `generate` process, whether the package imports, mypy --strict errors, ruff check
errors and `ruff format --check`; then openapi-python-client's exit code, time, peak RSS and
whether its package imports. Specs the validator refuses are listed with its first message.
A speed line compares the two tools on the five largest specs both generate: each is run
again --speed-runs times, ours and the peer's in turn, and the medians are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
OUT = ROOT / "bench" / ".out" / "corpus"
BIN = Path(sys.executable).parent
PY = sys.executable
# mypy and ruff as the project pins them (its .venv), whatever environment runs this script.
CHECKERS = ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin" / "mypy").exists() else BIN
TIMEOUT = 900


@dataclass
class Run:
    exit: int | None = None
    seconds: float = float("nan")
    peak_mb: float = float("nan")
    message: str = ""


@dataclass
class Outcome:
    spec: Path
    valid: bool = True
    invalid_reason: str = ""
    ours: Run = field(default_factory=Run)
    ours_package: str = ""
    imports: str = "-"
    mypy_errors: str = "-"
    ruff_errors: str = "-"
    formatted: str = "-"
    peer: Run = field(default_factory=Run)
    peer_imports: str = "-"


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
            timeout: float = TIMEOUT) -> Run:
    """Exit code, wall time, peak RSS and the last stderr line of one whole process."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                _, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = [ln for ln in err.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    message = ""
    for line in lines:  # the first error line says most
        if line.startswith(("error", "internal error")) or "Error" in line:
            message = line
            break
    if not message and lines:
        message = lines[-1]
    return Run(code, elapsed, usage.ru_maxrss / 1024, message[:160])


def spec_validator(spec: Path) -> tuple[bool, str]:
    """openapi-spec-validator's verdict, in its own process (it may be slow or crash)."""
    code = ("import sys\nfrom openapi_spec_validator import validate\n"
            "from openapi_spec_validator.readers import read_from_filename\n"
            "d, _ = read_from_filename(sys.argv[1])\n"
            "try:\n    validate(d)\nexcept Exception as e:\n"
            "    print(str(e).splitlines()[0][:150]); sys.exit(1)\n")
    try:
        result = subprocess.run([PY, "-c", code, str(spec)], capture_output=True, text=True,
                                timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return False, "validator timed out"
    return result.returncode == 0, (result.stdout.strip() or result.stderr.strip()[-150:])


def _tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def ours(outcome: Outcome, work: Path, check_types: bool) -> None:
    out = work / "ours"
    shutil.rmtree(out, ignore_errors=True)
    outcome.ours = measure([PY, "-m", "generator", "generate", "--spec", str(outcome.spec),
                            "--out", str(out)], ROOT)
    if outcome.ours.exit != 0:
        return
    packages = [p.name for p in out.iterdir() if (p / "__init__.py").is_file()]
    if not packages:
        outcome.imports = "no package"
        return
    package = outcome.ours_package = packages[0]
    result = subprocess.run([PY, "-c", f"import {package}"], cwd=out, capture_output=True,
                            text=True, check=False)
    outcome.imports = "yes" if result.returncode == 0 else "NO: " + _last(result.stderr)
    ruff = subprocess.run([str(CHECKERS / "ruff"), "check", "--isolated", "--line-length", "100",
                           "--output-format", "concise", package], cwd=out, capture_output=True, text=True, check=False)
    outcome.ruff_errors = str(len([ln for ln in ruff.stdout.splitlines() if ":" in ln
                                   and re.search(r":\d+:\d+: ", ln)]))
    formatted = subprocess.run([str(CHECKERS / "ruff"), "format", "--check", "--isolated",
                                "--line-length", "100", package], cwd=out,
                               capture_output=True, text=True, check=False)
    outcome.formatted = "yes" if formatted.returncode == 0 else "NO"
    if check_types:
        mypy = subprocess.run([str(CHECKERS / "mypy"), "--strict", "--no-incremental",
                               "--cache-dir", os.devnull, package], cwd=out,
                              capture_output=True, text=True, check=False)
        found = re.search(r"Found (\d+) error", mypy.stdout)
        outcome.mypy_errors = found.group(1) if found else (
            "0" if mypy.returncode == 0 else "?: " + _last(mypy.stdout + mypy.stderr))


def peer(outcome: Outcome, work: Path) -> None:
    out = work / "opc"
    shutil.rmtree(out, ignore_errors=True)
    exe = _tool("openapi-python-client")
    outcome.peer = measure([exe, "generate", "--path", str(outcome.spec),
                            "--output-path", str(out), "--overwrite"], work)
    if outcome.peer.exit != 0 or not out.is_dir():
        return
    packages = [p.name for p in out.iterdir() if (p / "__init__.py").is_file()]
    if not packages:
        outcome.peer_imports = "no package"
        return
    result = subprocess.run([PY, "-c", f"import {packages[0]}"], cwd=out, capture_output=True,
                            text=True, check=False)
    outcome.peer_imports = "yes" if result.returncode == 0 else "NO"


def compile_bytecode() -> None:
    """Byte-compile the generator, as `pip install` does for the peer (and for a user's install
    of the generator): the editable checkout otherwise compiles every module that changed
    since the last run inside the timed run, and not at all under PYTHONDONTWRITEBYTECODE."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "generator")], env=env,
                   stdout=subprocess.DEVNULL, check=False)


def _last(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1][:100] if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument("--only", action="append", default=[],
                        help="only specs whose file name contains this (repeatable)")
    parser.add_argument("--no-peer", action="store_true", help="skip openapi-python-client")
    parser.add_argument("--no-mypy", action="store_true", help="skip mypy --strict")
    parser.add_argument("--jobs", type=int, default=1,
                        help="specs checked at once (timings are taken one spec at a time "
                             "only with 1)")
    parser.add_argument("--json", metavar="FILE", help="also write the outcomes as JSON")
    parser.add_argument("--speed-runs", type=int, default=3,
                        help="runs of each tool on each of the five largest specs for the "
                             "speed line, in turn (median time, largest peak)")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"no corpus at {corpus}: the corpus run needs ../shared/corpus/", file=sys.stderr)
        return 2
    specs = sorted(p for p in corpus.iterdir() if p.suffix in (".json", ".yaml", ".yml")
                   and (not args.only or any(s in p.name for s in args.only)))
    OUT.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    has_peer = not args.no_peer and (shutil.which("openapi-python-client")
                                     or (BIN / "openapi-python-client").exists())

    def one(index_spec: tuple[int, Path]) -> Outcome:
        index, spec = index_spec
        outcome = Outcome(spec)
        outcome.valid, outcome.invalid_reason = spec_validator(spec)
        if not outcome.valid:
            return outcome
        work = OUT / f"{index:02d}"
        work.mkdir(parents=True, exist_ok=True)
        ours(outcome, work, not args.no_mypy)
        if has_peer:
            peer(outcome, work)
        shutil.rmtree(work, ignore_errors=True)
        status = "ok" if outcome.ours.exit == 0 and outcome.mypy_errors in ("0", "-") else "!!"
        print(f"{status} {spec.name}: exit {outcome.ours.exit} {outcome.ours.seconds:.2f}s "
              f"{outcome.ours.message}", file=sys.stderr, flush=True)
        return outcome

    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        outcomes = list(pool.map(one, enumerate(specs)))
    print_table(outcomes, has_peer)
    if has_peer:
        print_speed(outcomes, max(1, args.speed_runs))
    if args.json:
        Path(args.json).write_text(json.dumps([{
            "spec": o.spec.name, "valid": o.valid, "ours": vars(o.ours), "imports": o.imports,
            "mypy_errors": o.mypy_errors, "ruff_errors": o.ruff_errors,
            "formatted": o.formatted, "peer": vars(o.peer), "peer_imports": o.peer_imports,
        } for o in outcomes], indent=1))
    valid = [o for o in outcomes if o.valid]
    clean = [o for o in valid if o.ours.exit == 0 and o.imports == "yes"
             and o.mypy_errors in ("0", "-") and o.ruff_errors == "0" and o.formatted == "yes"]
    return 0 if len(clean) == len(valid) else 1


def print_table(outcomes: list[Outcome], has_peer: bool) -> None:
    print("| spec | MB | exit | s | peak MB | imports | mypy errors | ruff | formatted "
          "| opc exit | opc s | opc peak MB | opc imports |")
    print("|---|---:|---|---:|---:|---|---:|---:|---|---|---:|---:|---|")
    for o in outcomes:
        size = o.spec.stat().st_size / 1e6
        if not o.valid:
            print(f"| {o.spec.name} | {size:.2f} | not valid for openapi-spec-validator: "
                  f"{_cell(o.invalid_reason)} |||||||||||")
            continue
        exit_cell = str(o.ours.exit) + ("" if o.ours.exit == 0 else f": {_cell(o.ours.message)}")
        peer_exit = "-" if not has_peer else str(o.peer.exit) + (
            "" if o.peer.exit == 0 else f": {_cell(o.peer.message)}")
        print(f"| {o.spec.name} | {size:.2f} | {exit_cell} | {o.ours.seconds:.2f} "
              f"| {o.ours.peak_mb:.0f} | {o.imports} | {o.mypy_errors} | {o.ruff_errors} "
              f"| {o.formatted} | {peer_exit} | {o.peer.seconds:.2f} | {o.peer.peak_mb:.0f} "
              f"| {o.peer_imports} |")
    valid = [o for o in outcomes if o.valid]
    clean = [o for o in valid if o.ours.exit == 0 and o.imports == "yes"
             and o.mypy_errors in ("0", "-") and o.ruff_errors == "0" and o.formatted == "yes"]
    print()
    print(f"valid specs: {len(valid)} of {len(outcomes)}; clean packages (exit 0, import, "
          f"mypy --strict, ruff, formatted): {len(clean)}")
    if has_peer:
        peer_ok = [o for o in valid if o.peer.exit == 0 and o.peer_imports == "yes"]
        print(f"openapi-python-client packages that import: {len(peer_ok)}")


def print_speed(outcomes: list[Outcome], runs: int) -> None:
    """The speed target's line: the five largest specs both tools generate, each run `runs`
    more times by each tool in turn (ours, peer, ours, ...), median wall time and largest
    peak RSS of the whole process."""
    both = [o for o in outcomes if o.valid and o.ours.exit == 0 and o.peer.exit == 0]
    largest = sorted(both, key=lambda o: o.spec.stat().st_size, reverse=True)[:5]
    if not largest:
        return
    print(f"five largest specs both generate ({runs} runs each, in turn; median s, "
          "largest peak MB): " + ", ".join(o.spec.name for o in largest))
    ours_total = peer_total = 0.0
    more_memory = []
    work = OUT / "speed"
    for outcome in largest:
        ours_runs, peer_runs = [], []
        for _ in range(runs):
            shutil.rmtree(work, ignore_errors=True)
            ours_runs.append(measure([PY, "-m", "generator", "generate", "--spec",
                                      str(outcome.spec), "--out", str(work / "ours")], ROOT))
            peer_runs.append(measure([_tool("openapi-python-client"), "generate", "--path",
                                      str(outcome.spec), "--output-path", str(work / "opc"),
                                      "--overwrite"], OUT))
        shutil.rmtree(work, ignore_errors=True)
        ours_s = statistics.median(r.seconds for r in ours_runs)
        peer_s = statistics.median(r.seconds for r in peer_runs)
        ours_mb = max(r.peak_mb for r in ours_runs)
        peer_mb = max(r.peak_mb for r in peer_runs)
        ours_total += ours_s
        peer_total += peer_s
        if ours_mb > peer_mb:
            more_memory.append(outcome.spec.name)
        print(f"  {outcome.spec.name}: ours {ours_s:.2f} s / {ours_mb:.0f} MB, "
              f"openapi-python-client {peer_s:.2f} s / {peer_mb:.0f} MB, "
              f"{peer_s / ours_s:.1f}x faster")
    ratio = peer_total / ours_total
    met = ratio >= 5 and not more_memory
    print(f"TARGET {'MET    ' if met else 'NOT MET'} five largest specs both generate: "
          f">= 5x faster end to end at no higher peak memory: {ratio:.1f}x "
          f"(ours {ours_total:.2f} s, openapi-python-client {peer_total:.2f} s)"
          + (f"; more memory on {', '.join(more_memory)}" if more_memory else ""))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:90]


if __name__ == "__main__":
    sys.exit(main())
