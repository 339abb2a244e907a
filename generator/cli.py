"""argv -> stages -> diagnostics printed -> exit code.

Exit codes: 0 success; 1 `--check` found differences (or `diff --fail-on-breaking` found a
breaking change); 2 a spec is invalid or cannot be read (or the output cannot be written);
3 an internal error (a generator bug).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator import TOOL_NAME, __version__
from generator.diagnostics import Diagnostic, SpecError
from generator.ir import Api
from generator.load import LoadedSpec, load
from generator.lower import lower
from generator.select import Selection, select
from generator.validate import validate

EXIT_OK, EXIT_DIFFERENT, EXIT_BAD_SPEC, EXIT_INTERNAL = 0, 1, 2, 3
DEFAULT_SPEC_DIR = Path("spec")
DEFAULT_OUT = Path("generated")


def build_api(path: Path, *, lenient: bool = False) -> tuple[Api, list[Diagnostic]]:
    """load -> validate -> lower. Raises SpecError with every problem when the spec is bad."""
    return build_spec(load(path), lenient=lenient)


def build_spec(spec: LoadedSpec, *, lenient: bool = False) -> tuple[Api, list[Diagnostic]]:
    """validate -> lower a loaded spec. Raises SpecError with every problem when it is bad;
    `lenient`: defects that leave the meaning clear are warnings (validate.LENIENT_READINGS)."""
    try:
        return _build_spec(spec, lenient=lenient)
    except RecursionError:
        raise _too_deep(spec) from None


def _too_deep(spec: LoadedSpec) -> SpecError:
    # The last line of defence: load refuses documents nested deeper than MAX_DEPTH, but
    # chains of $ref can still nest further than a stage can follow.
    return SpecError([Diagnostic(
        level="error", code="E009", file=spec.root.label, pointer="",
        message="the spec nests too deeply to read (schemas through chains of $ref); the "
                "generator reads no deeper")])


def _build_spec(spec: LoadedSpec, *, lenient: bool) -> tuple[Api, list[Diagnostic]]:
    diagnostics = validate(spec, lenient=lenient)
    if any(d.level == "error" for d in diagnostics):
        raise SpecError(diagnostics)
    try:
        api = lower(spec, diagnostics)
    except SpecError as exc:
        raise SpecError(diagnostics + list(exc.diagnostics)) from None
    return api, diagnostics


def build_api_to_compare(spec: LoadedSpec, *,
                         strict: bool = False) -> tuple[Api, list[Diagnostic]]:
    """validate -> lower for `diff`: a spec that breaks OpenAPI's rules in ways lowering
    copes with (a missing `responses` or `description`, an undeclared path parameter) is still
    compared, as oasdiff does, its errors returned as diagnostics to show. Raises SpecError when
    the spec cannot be read or lowered, or (`strict`) has any error."""
    try:
        return _build_api_to_compare(spec, strict=strict)
    except RecursionError:
        raise _too_deep(spec) from None


def _build_api_to_compare(spec: LoadedSpec, *, strict: bool) -> tuple[Api, list[Diagnostic]]:
    diagnostics = validate(spec)
    errors = [d for d in diagnostics if d.level == "error"]
    if errors and strict:
        raise SpecError(diagnostics)
    try:
        api = lower(spec, diagnostics, complete=True)
    except SpecError as exc:
        raise SpecError(diagnostics + list(exc.diagnostics)) from None
    except Exception:  # lowering assumes a valid spec; this one was not
        if not errors:
            raise  # a valid spec that does not lower is our bug: exit 3
        raise SpecError(diagnostics) from None
    return api, diagnostics


@dataclass(frozen=True, slots=True)
class _Input:
    """One OpenAPI document to build: a spec file, or one version of a TypeSpec project."""

    label: str
    spec: LoadedSpec
    attribute: Callable[[Diagnostic], Diagnostic]  # places a stage's diagnostic at the source
    locate: Callable[[str], tuple[str, int | None]]  # diff's locator


def _inputs(argument: str, version: str | None = None, *,
            every_version: bool = True) -> list[_Input]:
    """A spec file -> [it]; a TypeSpec project (`main.tsp`, `main.tsp@VERSION`) -> each
    version, or the one named (`every_version=False`: the newest when none is named)."""
    from generator import typespec  # TypeSpec input only: Node is not needed otherwise

    path, named = typespec.split_version(argument)
    if named and version and named != version:
        raise typespec.ToolchainError(path, "T010", f"two versions named: {named!r} and "
                                      f"{version!r}")
    version = named or version
    if not typespec.is_typespec(Path(path)):
        if version:
            raise typespec.ToolchainError(path, "T010", "a version can only be named for a "
                                          "TypeSpec project (.tsp)")
        spec = load(path)
        return [_Input(str(path), spec, lambda d: d, _diff_locator(spec))]
    project = typespec.compile_project(Path(path))
    _report(project.warnings)
    chosen = (project.versions if every_version and version is None
              else (project.select(version),))
    return [_Input(v.label, v.spec, v.attribute, v.locate) for v in chosen]


def _diff_locator(spec: LoadedSpec) -> Callable[[str], tuple[str, int | None]]:
    """diff's locator for a spec, made on first use: `generate` never imports the diff."""
    made: list[Callable[[str], tuple[str, int | None]]] = []

    def locate(pointer: str) -> tuple[str, int | None]:
        if not made:
            from generator import diff

            made.append(diff.locator(spec))
        return made[0](pointer)
    return locate


def _build_each(given: str, *, lenient: bool = False,
                selection: Selection | None = None) -> tuple[list[tuple[_Input, Api]], bool]:
    """Build every document of a spec argument, printing its diagnostics at their source:
    the APIs built, and whether all of them were."""
    try:
        inputs = _inputs(given)
    except SpecError as exc:
        _report(exc.diagnostics)
        return [], False
    built = []
    for source in inputs:
        try:
            api, warnings = build_spec(source.spec, lenient=lenient)
        except SpecError as exc:
            _report([source.attribute(d) for d in exc.diagnostics])
            continue
        _report([source.attribute(d) for d in warnings])
        if selection:
            try:
                api = select(api, selection)
            except ValueError as exc:
                print(f"error: {source.label}: {exc}", file=sys.stderr)
                continue
        built.append((source, api))
    return built, len(built) == len(inputs)


def _spec_files(given: Sequence[str] | None) -> list[Path]:
    if given:
        return [Path(p) for p in given]
    return sorted(p for p in DEFAULT_SPEC_DIR.glob("*") if p.suffix in (".yaml", ".yml", ".json"))


def _report(diagnostics: Sequence[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        print(f"{diagnostic.level}: {diagnostic.format()}", file=sys.stderr)


def cmd_generate(args: argparse.Namespace) -> int:
    from generator.render import render  # jinja2: only generation needs it
    from generator.write import differences, remove_packages, stale_packages, write

    specs = _spec_files(args.spec)
    if not specs:
        print(f"error: no spec files found in {DEFAULT_SPEC_DIR}/", file=sys.stderr)
        return EXIT_BAD_SPEC
    files: dict[str, str] = {}
    failed = False
    owners: dict[str, str] = {}
    for given in specs:
        built, ok = _build_each(str(given), lenient=args.lenient, selection=Selection(
            tuple(args.operation or ()), tuple(args.tag or ()), tuple(args.path or ())))
        failed = failed or not ok
        for source, api in built:
            if api.package in owners:
                print(f"error: {source.label} and {owners[api.package]} both generate package "
                      f"{api.package!r}", file=sys.stderr)
                failed = True
                continue
            owners[api.package] = source.label
            try:
                files.update(render(api))
            except RuntimeError as exc:  # generated code that does not parse: our bug
                print(f"internal error: {source.label}: {exc}\nnothing was written; please "
                      "report this with the spec", file=sys.stderr)
                return EXIT_INTERNAL
    if failed:
        print("nothing was written: fix the problems above first", file=sys.stderr)
        return EXIT_BAD_SPEC
    out = Path(args.out)
    # Packages this tool generated before but no spec makes now: only when every spec is used.
    stale = [] if args.spec else stale_packages(out, set(owners))
    if args.check:
        changed = differences(files, out)
        for path in changed:
            print(f"out of date: {out / path}")
        for package in stale:
            print(f"no longer generated: {package}/")
            changed.append(str(package))
        if changed:
            print(f"{len(changed)} generated file(s) differ: run `make generate`", file=sys.stderr)
            return EXIT_DIFFERENT
        print(f"{len(files)} generated file(s) up to date")
        return EXIT_OK
    try:
        write(files, out)
    except OSError as exc:  # not a directory, no permission, disk full: write changed nothing
        print(f"error: cannot write to {out}: {exc.strerror or exc}\nnothing was written",
              file=sys.stderr)
        return EXIT_BAD_SPEC
    for package in remove_packages(stale):
        print(f"warning: {package}/ is no longer generated by any spec but holds a _patch.py; "
              "remove it by hand", file=sys.stderr)
    for package in stale:
        if not package.exists():
            print(f"removed {package}/: no spec generates it any more")
    print(f"generated {len(owners)} package(s), {len(files)} file(s) in {out}/: "
          + ", ".join(sorted(api_package for api_package in owners)))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for given in _spec_files(args.spec):
        built, ok = _build_each(str(given), lenient=args.lenient)
        if not ok:
            status = EXIT_BAD_SPEC
        for source, _api in built:
            print(f"{source.label}: valid")
    return status


def cmd_diff(args: argparse.Namespace) -> int:
    import json

    from generator import diff

    apis = []
    failed = False
    for given, version in ((args.old, args.old_version), (args.new, args.new_version)):
        try:
            (source,) = _inputs(given, version, every_version=False)
        except SpecError as exc:
            _report(exc.diagnostics)
            failed = True
            continue
        try:
            api, diagnostics = build_api_to_compare(source.spec, strict=args.strict)
        except SpecError as exc:
            _report([source.attribute(d) for d in exc.diagnostics])
            failed = True
            continue
        errors = [source.attribute(d) for d in diagnostics if d.level == "error"]
        if errors:
            _report(errors)
            print(f"{source.label}: {len(errors)} error(s) above; compared as far as it could "
                  "be read (--strict refuses it)", file=sys.stderr)
        apis.append((api, source.locate))
    if failed:
        return EXIT_BAD_SPEC
    (old, locate_old), (new, locate_new) = apis
    report = diff.diff(old, new, locate_old=locate_old, locate_new=locate_new)
    fail_on = args.fail_on.upper() if args.fail_on else None
    if args.format == "json":
        print(json.dumps(diff.to_json(report), indent=2, ensure_ascii=False))
    elif args.format == "github":
        print(diff.to_github(report), end="")
    elif args.format == "junit":
        print(diff.to_junit(report, fail_on or "ERR"), end="")
    else:
        print(diff.to_markdown(report), end="")
    if args.fail_on_breaking and report.breaking:
        return EXIT_DIFFERENT
    if fail_on is not None:
        threshold = diff.LEVELS.index(fail_on)
        if any(diff.LEVELS.index(c.level) <= threshold for c in report.changes):
            return EXIT_DIFFERENT
    return EXIT_OK


def _internal_error(exc: BaseException) -> int:
    """Report an unexpected exception as exit 3, one short message, never a bare traceback.

    Exit 1 would read as "--check found differences" or "breaking change" to a CI gate.
    The traceback goes to stderr only with EMBEDDINGS_CODEGEN_DEBUG=1.
    """
    import traceback  # only here: a run that succeeds does not load it

    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" at {Path(where[0].filename).name}:{where[0].lineno}" if where else ""
    print(f"internal error: {type(exc).__name__}{at}: {str(exc)[:200]}\n"
          f"nothing was written; please report this at the project's issue tracker with the "
          f"spec that caused it ({TOOL_NAME} {__version__})", file=sys.stderr)
    if os.environ.get("EMBEDDINGS_CODEGEN_DEBUG") == "1":
        traceback.print_exception(exc)
    return EXIT_INTERNAL


def _lenient_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--lenient", action="store_true",
        help="defects that leave the meaning clear (a name required twice, 3.0's boolean "
             "exclusiveMinimum in 3.1, a default or example that does not fit its schema, a "
             "discriminator naming no property, a duplicate operationId) are warnings, and "
             "generation goes on; strict otherwise")


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="python -m generator",
        description="Generate typed Python clients and ASGI server stubs for the Azure AI Model "
                    "Inference embeddings API from OpenAPI specs (3.1, 3.0 or Swagger 2.0).",
        epilog="Exit codes: 0 success, 1 differences found (--check) or a breaking change "
               "(diff --fail-on-breaking), 2 invalid spec, 3 internal error (a generator bug).",
    )
    main_parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser(
        "generate", help="render every spec into a Python package",
        description="Render each spec into <out>/<package>/: models, sync and async clients, "
                    "exceptions and an ASGI server stub. Nothing is written unless every spec "
                    "is valid; each package directory is replaced atomically.")
    generate.add_argument("--spec", action="append", metavar="FILE",
                          help="a spec file (repeatable), or a TypeSpec project (main.tsp: a "
                               "package per version; main.tsp@VERSION: that one); default: "
                               "every spec in spec/")
    generate.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR",
                          help="output directory (default: generated)")
    generate.add_argument("--check", action="store_true",
                          help="write nothing; exit 1 naming the files that differ from a fresh "
                               "generation")
    _lenient_option(generate)
    part = generate.add_argument_group(
        "generating part of a spec",
        "Only the operations named (by any of these options; each repeatable) and the schemas "
        "they reach. The whole spec is still validated.")
    part.add_argument("--operation", action="append", metavar="ID",
                      help="an operationId (or the generated method name)")
    part.add_argument("--tag", action="append", metavar="TAG", help="operations with this tag")
    part.add_argument("--path", action="append", metavar="PATTERN",
                      help="operations on paths matching this shell-style pattern "
                           "('/embeddings', '/images/*')")
    generate.set_defaults(handler=cmd_generate)

    check = commands.add_parser("validate", help="check specs and print every problem found",
                                description="Load, validate and lower specs without rendering.")
    check.add_argument("spec", nargs="*", metavar="FILE",
                       help="spec files (default: every spec in spec/)")
    _lenient_option(check)
    check.set_defaults(handler=cmd_validate)

    compare = commands.add_parser(
        "diff", help="classify the changes between two specs, for review",
        description="Compare two specs on their lowered form: every change to operations, "
                    "parameters, bodies, schemas, responses and security, classified as breaking "
                    "or not for clients and for servers (rules: README.md, 'Spec diffs'), and "
                    "the public names of the generated packages that change.")
    compare.add_argument("old", metavar="OLD",
                         help="the old spec file, or a TypeSpec project: main.tsp or "
                              "main.tsp@VERSION")
    compare.add_argument("new", metavar="NEW", help="the new spec, as OLD")
    compare.add_argument("--old-version", metavar="VERSION",
                         help="the version of a TypeSpec OLD to compare (its value, e.g. "
                              "2024-05-01-preview, or its enum member); default: the newest")
    compare.add_argument("--new-version", metavar="VERSION",
                         help="the version of a TypeSpec NEW, as --old-version")
    compare.add_argument("--format", choices=("markdown", "json", "github", "junit"),
                         default="markdown",
                         help="output format: markdown (default), json, github (GitHub Actions "
                              "annotations on the spec's lines), junit (JUnit XML, one test case "
                              "per change)")
    compare.add_argument("--fail-on-breaking", action="store_true",
                         help="exit 1 when a change breaks clients or servers")
    compare.add_argument("--fail-on", type=str.upper, choices=("ERR", "WARN", "INFO"),
                         metavar="LEVEL",
                         help="exit 1 when a change has this level or a more severe one, as "
                              "oasdiff grades for clients: ERR (breaks them), WARN (may break "
                              "them) or INFO (any change)")
    compare.add_argument("--strict", action="store_true",
                         help="exit 2 when a spec has any error, even one the diff can read past")
    compare.set_defaults(handler=cmd_diff)
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    # Performance: a run builds millions of objects that live until it ends (the spec, the IR,
    # the rendered text), and the cyclic GC would rescan them again and again: some 0.6 s of
    # 1.6 s on a 1,000-schema spec. Reference counting still frees what is dropped.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        args = parser().parse_args(argv)
        handler = args.handler
        try:
            return int(handler(args))
        except Exception as exc:  # noqa: BLE001 -- any exception here is a generator bug: exit 3
            return _internal_error(exc)
    finally:
        if gc_was_enabled:
            gc.enable()
