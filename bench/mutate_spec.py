"""A second version of a spec, made by deterministic mutations, for timing `diff` (make bench).

    python bench/mutate_spec.py OLD.json NEW.json

Each mutation is one a reviewer must see: an operation removed, a required property added,
a property's type changed, an optional parameter made required, an enum value removed. The
same input always gives the same output (no randomness: every Nth item, in sorted order).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

EVERY = 40  # one schema in EVERY is mutated


def _schemas(spec: dict[str, Any]) -> dict[str, Any]:
    if isinstance(spec.get("definitions"), dict):  # Swagger 2.0
        return spec["definitions"]  # type: ignore[no-any-return]
    return spec.get("components", {}).get("schemas", {})  # type: ignore[no-any-return]


def mutate(spec: dict[str, Any]) -> list[str]:
    """Mutate `spec` in place; return what was done, one line each."""
    done = []
    paths = spec.get("paths", {})
    names = sorted(paths)
    if names:
        path = names[len(names) // 2]
        methods = sorted(m for m in paths[path] if m in ("get", "put", "post", "delete", "patch"))
        if methods:
            del paths[path][methods[0]]
            done.append(f"operation removed: {methods[0].upper()} {path}")
    for i, name in enumerate(sorted(_schemas(spec))):
        schema = _schemas(spec)[name]
        props = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(props, dict):
            continue
        if i % EVERY == 0:
            props["benchAdded"] = {"type": "string"}
            schema["required"] = [*schema.get("required", []), "benchAdded"]
            done.append(f"required property added: {name}.benchAdded")
        elif i % EVERY == EVERY // 2:
            strings = sorted(p for p, v in props.items() if isinstance(v, dict) and v.get(
                "type") == "string" and "enum" not in v and "const" not in v)
            if strings:
                props[strings[0]] = {**props[strings[0]], "type": "integer"}
                done.append(f"type changed: {name}.{strings[0]} string -> integer")
        elif i % EVERY == EVERY // 4:
            enums = sorted(p for p, v in props.items()
                           if isinstance(v, dict) and len(v.get("enum") or []) > 1)
            if enums:
                removed = props[enums[0]]["enum"][-1]
                props[enums[0]] = {**props[enums[0]], "enum": props[enums[0]]["enum"][:-1]}
                done.append(f"enum value removed: {name}.{enums[0]} {removed!r}")
    for path in names[::EVERY]:
        for method, op in sorted(paths.get(path, {}).items()):
            params = op.get("parameters") if isinstance(op, dict) else None
            optional = [p for p in params or [] if isinstance(p, dict) and p.get("in") == "query"
                        and not p.get("required")]
            if optional:
                optional[0]["required"] = True
                done.append(f"parameter became required: {method.upper()} {path} "
                            f"{optional[0].get('name')}")
                break
    return done


def main(argv: list[str]) -> int:
    source, target = Path(argv[0]), Path(argv[1])
    spec = json.loads(source.read_text(encoding="utf-8"))
    done = mutate(spec)
    target.write_text(json.dumps(spec), encoding="utf-8")
    print(f"{len(done)} mutations: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
