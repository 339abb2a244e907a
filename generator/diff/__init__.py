"""Two ir.Api -> classified changes: a semantic diff of two specs, for review.

Every change is found on the lowered IR, tied to its JSON pointer in both files, and classified
by one rule of `RULES` (the table README.md shows, rendered by `rules_markdown()`):

- **breaks clients**: a client written for the OLD spec can fail against a service that
  implements the NEW one (a request it sends is refused or means something else, a response it
  gets does not parse or lacks what it relies on);
- **breaks servers**: a service written for the OLD spec can fail clients written for the NEW
  one (it refuses or ignores what they send, or answers what they do not accept).

What flows where decides: a narrower set of accepted values breaks the side that *sends* them
(clients for requests, servers for responses), a wider set breaks the side that *reads* them.
A schema used in both directions takes both verdicts.

The diff also lists what changes in the generated packages' public Python surface (names that
appear or disappear, signatures that change), read from render.build_view: the same view
models the templates print.
"""

from __future__ import annotations

from generator import ir
from generator.diff.compare import compare
from generator.diff.report import rules_markdown, to_github, to_json, to_junit, to_markdown
from generator.diff.results import Change, CodeChange, Locator, Report, Side, locator
from generator.diff.rules import (
    LEVELS,
    RULES,
    RULES_BY_ID,
    SECTIONS,
    Context,
    Level,
    Rule,
    Verdict,
    classify,
    level,
)
from generator.diff.surface import code_changes

__all__ = ["LEVELS", "RULES", "RULES_BY_ID", "SECTIONS", "Change", "CodeChange", "Context",
           "Level", "Locator", "Report", "Rule", "Side", "Verdict", "classify", "code_changes",
           "diff", "level", "locator", "rules_markdown", "to_github", "to_json", "to_junit",
           "to_markdown"]


def diff(old: ir.Api, new: ir.Api, *, locate_old: Locator | None = None,
         locate_new: Locator | None = None) -> Report:
    """Every change from `old` to `new`, classified, with the generated-code impact."""
    return Report(old_file=old.source.file, new_file=new.source.file,
                  old_version=old.api_version, new_version=new.api_version,
                  old_sha256=old.source.sha256, new_sha256=new.source.sha256,
                  changes=compare(old, new, locate_old, locate_new),
                  code=code_changes(old, new))
