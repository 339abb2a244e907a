"""Time each generator stage in one process (a profiling aid; `make bench` does not need it).

    .venv/bin/python bench/stages.py bench/.out/specs/synthetic-1000.yaml [--no-format]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

_T0 = time.perf_counter()
from generator import render as _render
from generator.load import load
from generator.lower import lower
from generator.validate import validate

_IMPORTS = time.perf_counter() - _T0


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    print(f"imports      {_IMPORTS:7.3f} s")
    t = time.perf_counter()
    spec = load(path)
    print(f"load         {time.perf_counter() - t:7.3f} s")
    t = time.perf_counter()
    diagnostics = validate(spec)
    print(f"validate     {time.perf_counter() - t:7.3f} s ({len(diagnostics)} diagnostics)")
    t = time.perf_counter()
    api = lower(spec)
    print(f"lower        {time.perf_counter() - t:7.3f} s")
    formatter = _render.format_modules
    _render.format_modules = dict  # type: ignore[assignment]  # render alone first
    t = time.perf_counter()
    files = _render.render(api)
    lines = sum(text.count("\n") for text in files.values())
    print(f"render       {time.perf_counter() - t:7.3f} s ({lines} lines, unformatted)")
    _render.format_modules = formatter
    if "--no-format" not in argv:
        t = time.perf_counter()
        formatter(files)
        print(f"format       {time.perf_counter() - t:7.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
