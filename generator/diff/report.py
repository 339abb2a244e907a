"""Reports for people and tools: markdown, JSON, and the rules table README.md shows."""

from __future__ import annotations

from typing import Any

from generator.diff.results import Report, Side
from generator.diff.rules import LEVELS, RULES, SECTIONS, Context, Level, Rule, Verdict


def to_json(report: Report) -> dict[str, Any]:
    def side(s: Side | None) -> dict[str, Any] | None:
        if s is None:
            return None
        return {"file": s.file, "line": s.line, "pointer": "#" + s.pointer, "value": s.value}

    return {
        "old": {"file": report.old_file, "api_version": report.old_version,
                "sha256": report.old_sha256},
        "new": {"file": report.new_file, "api_version": report.new_version,
                "sha256": report.new_sha256},
        "summary": _summary(report),
        "changes": [{"rule": c.rule, "subject": c.subject, "where": c.where,
                     "message": c.message, "contexts": list(c.contexts),
                     "breaks_clients": c.breaks_clients, "breaks_servers": c.breaks_servers,
                     "level": c.level,
                     "old": side(c.old), "new": side(c.new)} for c in report.changes],
        "generated_code": [{"module": c.module, "name": c.name, "kind": c.kind, "old": c.old,
                            "new": c.new, "details": list(c.details)} for c in report.code],
    }


def _summary(report: Report) -> dict[str, int]:
    return {
        "changes": len(report.changes),
        "breaking_for_clients": sum(c.breaks_clients for c in report.changes),
        "breaking_for_servers": sum(c.breaks_servers for c in report.changes),
        "non_breaking": sum(not (c.breaks_clients or c.breaks_servers) for c in report.changes),
        **{level.lower(): sum(c.level == level for c in report.changes) for level in LEVELS},
        "generated_names_added": sum(c.kind == "added" for c in report.code),
        "generated_names_removed": sum(c.kind == "removed" for c in report.code),
        "generated_names_changed": sum(c.kind == "changed" for c in report.code),
    }


def _cell(text: str) -> str:
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _location(s: Side | None) -> str:
    if s is None:
        return "–"
    text = f"{s.where()} {_code('#' + s.pointer)}"
    return text + (f": {_code(s.value)}" if s.value is not None else "")


_CLIENTS = {"ERR": "**breaks**", "WARN": "may break", "INFO": "ok"}


def to_markdown(report: Report) -> str:
    summary = _summary(report)
    lines = [
        f"# Spec diff: {report.old_version} → {report.new_version}",
        "",
        (f"- old: `{report.old_file}` (api-version {report.old_version}, "
         f"sha256:{report.old_sha256[:12]})"),
        (f"- new: `{report.new_file}` (api-version {report.new_version}, "
         f"sha256:{report.new_sha256[:12]})"),
        "",
        (f"**{summary['changes']} changes: {summary['breaking_for_clients']} break clients, "
         f"{summary['breaking_for_servers']} break servers, {summary['non_breaking']} break "
         "neither.**"
         f" For clients, as oasdiff grades: {summary['err']} ERR, {summary['warn']} WARN, "
         f"{summary['info']} INFO."),
        "",
        ("*Breaks clients*: a client written for the old spec can fail against a service that "
         "implements the new one. *Breaks servers*: a service written for the old spec can fail "
         "clients written for the new one. *May break*: whether it does depends on what the "
         "spec does not say (WARN). Each change names the rule that classified it (see "
         "the rules table in README.md, \"Spec diffs\")."),
        "",
    ]
    for subject in SECTIONS:
        rows = [c for c in report.changes if c.subject == subject]
        if not rows:
            continue
        title = "API" if subject == "api" else subject[:1].upper() + subject[1:]
        lines += [f"## {title} changes", "",
                  "| where | change | clients | servers | rule | old | new |",
                  "|---|---|---|---|---|---|---|"]
        for c in rows:
            lines.append("| " + " | ".join(_cell(text) for text in (
                c.where, c.message, _CLIENTS[c.level],
                "**breaks**" if c.breaks_servers else "ok", c.rule, _location(c.old),
                _location(c.new))) + " |")
        lines.append("")
    if not report.changes:
        lines += ["No changes.", ""]
    lines += ["## Generated code", ""]
    if not report.code:
        lines += ["The generated packages' public names are the same.", ""]
    for kind, title in (("changed", "Changed"), ("removed", "Removed"), ("added", "Added")):
        entries = [e for e in report.code if e.kind == kind]
        if not entries:
            continue
        lines += [f"### {title} ({len(entries)})", ""]
        for entry in entries:
            if entry.module == "package":
                lines.append(f"- package `{entry.old}` → `{entry.new}`")
                continue
            signature = entry.new if kind == "added" else entry.old
            lines.append(f"- `{entry.module}`: {_code(str(signature))}")
            if entry.details:
                lines += ["  ```diff"] + [f"  {detail}" for detail in entry.details] + ["  ```"]
            elif kind == "changed":
                lines.append(f"  - now {_code(str(entry.new))}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def rules_markdown() -> str:
    """The classification table, as README.md shows it (a test keeps the two identical)."""

    def verdict(rule: Rule, context: Context) -> str:
        v: Verdict | None = getattr(rule, context)
        if v is None:
            return "–"
        text = {(False, False): "neither", (True, False): "clients",
                (False, True): "servers", (True, True): "both"}[v]
        if v[0] and context in rule.may:
            text += " (clients: WARN)" if v[1] else " (WARN)"
        return text

    lines = [("| rule | change | in requests, breaks | in responses, breaks | otherwise, breaks "
              "| why |"), "|---|---|---|---|---|---|"]
    for rule in RULES:
        lines.append("| " + " | ".join((
            f"`{rule.id}`", _cell(rule.change), verdict(rule, "request"),
            verdict(rule, "response"), verdict(rule, "api"), _cell(rule.why))) + " |")
    return "\n".join(lines) + "\n"


# ---- CI formats ----------------------------------------------------------------------------

_ANNOTATION = {"ERR": "error", "WARN": "warning", "INFO": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(report: Report) -> str:
    """GitHub Actions workflow commands: one annotation per change, on the line of the NEW spec
    (the OLD one for what was removed), as error (ERR), warning (WARN) or notice (INFO)."""
    lines = []
    for c in report.changes:
        side = c.new if c.new is not None and c.new.line is not None else c.old or c.new
        where = ""
        if side is not None:
            where = f"file={_escape_property(side.file)}"
            if side.line is not None:
                where += f",line={side.line}"
            where += ","
        verdict = ", ".join(p for p, hit in (("breaks clients", c.breaks_clients),
                                             ("breaks servers", c.breaks_servers)) if hit)
        title = _escape_property(f"{c.rule} ({c.level}{', ' + verdict if verdict else ''})")
        lines.append(f"::{_ANNOTATION[c.level]} {where}title={title}::"
                     + _escape_data(f"{c.where}: {c.message}"))
    summary = _summary(report)
    lines.append(f"::notice title=spec diff::{summary['changes']} changes: {summary['err']} ERR, "
                 f"{summary['warn']} WARN, {summary['info']} INFO "
                 f"({report.old_file} -> {report.new_file})")
    return "\n".join(lines) + "\n"


def to_junit(report: Report, fail_on: Level = "ERR") -> str:
    """JUnit XML, the format every CI shows: one test case per change, failed when its level
    is `fail_on` or more severe, so that the CI's test view lists what breaks and where."""
    from xml.etree import ElementTree as ET

    threshold = LEVELS.index(fail_on)
    failing = [c for c in report.changes if LEVELS.index(c.level) <= threshold]
    suite = ET.Element("testsuite", name=f"spec diff {report.old_file} -> {report.new_file}",
                       tests=str(max(len(report.changes), 1)), failures=str(len(failing)),
                       errors="0", skipped="0")
    if not report.changes:
        ET.SubElement(suite, "testcase", classname="spec-diff", name="no changes")
    for c in report.changes:
        case = ET.SubElement(suite, "testcase", classname=f"spec-diff.{c.subject}",
                             name=f"{c.where}: {c.message}")
        details = [f"rule: {c.rule}", f"level: {c.level}",
                   f"breaks clients: {'yes' if c.breaks_clients else 'no'}",
                   f"breaks servers: {'yes' if c.breaks_servers else 'no'}",
                   f"old: {_location(c.old)}", f"new: {_location(c.new)}"]
        if LEVELS.index(c.level) <= threshold:
            failure = ET.SubElement(case, "failure", type=c.level,
                                    message=f"{c.rule}: {c.message}")
            failure.text = "\n".join(details)
        else:
            ET.SubElement(case, "system-out").text = "\n".join(details)
    root = ET.Element("testsuites", name="spec diff")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
