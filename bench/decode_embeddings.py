"""Decoding an embeddings response: base64 (little-endian float32) against JSON floats.

    python bench/decode_embeddings.py [--vectors 1024] [--dims 1024] [--repeat 5] [--min-ratio 5]

Builds one response body of `vectors` x `dims` numbers in each encoding_format, then times,
best of `repeat`, what a caller does with it: json.loads, EmbeddingsResult.from_dict (the
generated model, which checks the body) and result.vectors(format) (the generated decoding
helper), result.vectors_array(format) (compact float32 array.array rows) and the NumPy
variant when NumPy is installed. Floats are written with 9
significant digits, enough to round-trip float32, as services send them.

Prints a table and the base64-vs-float ratios; exits 1 when the ratio of the full path to
lists (json + model + vectors) is below --min-ratio. Needs only the generated package (found in
generated/ next to this script's parent directory); NumPy is optional.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generated"))

PACKAGE = "model_inference_2024_05_01_preview"


def best_of(repeat: int, action: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def body(vectors: list[list[float]], fmt: str, encoding: Any) -> str:
    data = []
    for index, values in enumerate(vectors):
        embedding: Any = encoding.encode_embedding(values, fmt)
        if fmt == "float":  # 9 significant digits: what a float32 needs to round-trip
            embedding = [float(f"{v:.9g}") for v in embedding]
        data.append({"index": index, "object": "embedding", "embedding": embedding})
    return json.dumps({"id": "bench", "object": "list", "model": "bench", "data": data,
                       "usage": {"prompt_tokens": 1, "total_tokens": 1}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectors", type=int, default=1024)
    parser.add_argument("--dims", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--min-ratio", type=float, default=5.0)
    args = parser.parse_args(argv)

    encoding = __import__(f"{PACKAGE}.encoding", fromlist=["encoding"])
    models = __import__(f"{PACKAGE}.models", fromlist=["models"])
    has_numpy = importlib.util.find_spec("numpy") is not None

    rng = random.Random(7)
    vectors = [[rng.uniform(-1.0, 1.0) for _ in range(args.dims)] for _ in range(args.vectors)]
    formats = ["float", "base64", "int8", "uint8", "binary", "ubinary"]
    texts = {fmt: body(vectors, fmt, encoding) for fmt in formats}

    def full(fmt: str, helper: str = "vectors") -> Callable[[], Any]:
        """json + model + the result's `helper` (vectors, vectors_array or vectors_numpy)."""
        def run() -> Any:
            result = models.EmbeddingsResult.from_dict(json.loads(texts[fmt]))
            return getattr(result, helper)(fmt)
        return run

    parsed = {fmt: json.loads(texts[fmt]) for fmt in formats}

    def decode_only(fmt: str) -> Callable[[], Any]:
        items = [item["embedding"] for item in parsed[fmt]["data"]]
        return lambda: encoding.decode_embeddings(items, fmt)

    rows: list[tuple[str, int, float, float, float, float | None]] = []
    for fmt in formats:
        rows.append((fmt, len(texts[fmt]),
                     best_of(args.repeat, full(fmt)),
                     best_of(args.repeat, decode_only(fmt)),
                     best_of(args.repeat, full(fmt, "vectors_array")),
                     best_of(args.repeat, full(fmt, "vectors_numpy")) if has_numpy else None))

    print(f"decoding {args.vectors} x {args.dims} embeddings, best of {args.repeat} "
          f"(python {sys.version.split()[0]}, numpy {'yes' if has_numpy else 'no'})")
    print(f"{'format':<8} {'body MB':>8} {'json+model+vectors s':>21} {'vs float':>9} "
          f"{'decode only s':>14} {'with arrays s':>14} {'with numpy s':>13}")
    float_full = rows[0][2]
    for fmt, size, total, decode, with_array, with_numpy in rows:
        numpy_text = f"{with_numpy:13.4f}" if with_numpy is not None else f"{'-':>13}"
        print(f"{fmt:<8} {size / 1e6:8.2f} {total:21.4f} {float_full / total:8.1f}x "
              f"{decode:14.4f} {with_array:14.4f} {numpy_text}")
    print(f"base64 vs JSON floats (json+model+vectors_array, float32 rows from both): "
          f"{rows[0][4] / rows[1][4]:.1f}x faster")
    ratio = float_full / rows[1][2]
    verdict = "PASS" if ratio >= args.min_ratio else "FAIL"
    print(f"base64 vs JSON floats (json+model+vectors): {ratio:.1f}x faster "
          f"(required >= {args.min_ratio:g}x): {verdict}")
    return 0 if ratio >= args.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
