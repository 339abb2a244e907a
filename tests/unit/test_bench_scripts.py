"""The benchmark's own scripts still run and still measure what they say (no timings are
asserted here: `make bench` measures, with the peers, in its own environment)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)


def test_synthetic_specs_are_deterministic_and_valid(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "synthetic-50.yaml", tmp_path / "b" / "synthetic-50.yaml"
    for path in (first, second):
        assert run("bench/make_spec.py", "50", str(path)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    text = first.read_text("utf-8")
    assert text.count("operationId:") == 10  # one operation per five schemas
    result = run("-m", "generator", "validate", str(first))
    assert result.returncode == 0, result.stdout + result.stderr


def test_decoding_benchmark_runs_every_format() -> None:
    result = run("bench/decode_embeddings.py", "--vectors", "4", "--dims", "16", "--repeat", "1",
                 "--min-ratio", "0")
    assert result.returncode == 0, result.stderr
    rows = re.findall(r"^(float|base64|int8|uint8|binary|ubinary) +\d", result.stdout,
                      re.MULTILINE)
    assert rows == ["float", "base64", "int8", "uint8", "binary", "ubinary"]
    assert "float32 rows from both" in result.stdout and "PASS" in result.stdout


def test_mutated_spec_is_deterministic_and_every_mutation_is_diffed(tmp_path: Path) -> None:
    import json

    import yaml

    synthetic = tmp_path / "synthetic-200.yaml"
    assert run("bench/make_spec.py", "200", str(synthetic)).returncode == 0
    old = tmp_path / "old.json"
    old.write_text(json.dumps(yaml.safe_load(synthetic.read_text("utf-8"))), "utf-8")
    first, second = tmp_path / "new1.json", tmp_path / "new2.json"
    for path in (first, second):
        assert run("bench/mutate_spec.py", str(old), str(path)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    count = int(run("bench/mutate_spec.py", str(old), str(first)).stdout.split()[0])
    assert count >= 4
    result = run("-m", "generator", "diff", str(old), str(first), "--format", "json",
                 "--fail-on", "ERR")
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["summary"]["changes"] >= count


def test_speed_helpers_benchmark_times_every_helper_against_the_same_result() -> None:
    # helpers.py exits 1 when a helper and the plain way put in its place disagree.
    result = run("bench/helpers.py", "--repeat", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    helpers = re.findall(r"^\| ([\w.]+) \|", result.stdout, re.MULTILINE)
    assert set(helpers) - {"helper"} == {"_runtime._all_plain", "_runtime._fields_as_they_are",
                                         "_runtime._model_as_it_came", "_asgi._parsed_by_orjson",
                                         "encoding._base64_bytes",
                                         "encoding._all_ints_within", "encoding._unpack_bits",
                                         "_answer._orjson", "_runtime._decode_in_place",
                                         "_fast._msgspec",
                                         "_runtime._variants_for"}
