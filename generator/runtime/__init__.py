"""The runtime of the generated packages, as ordinary Python modules.

Every `*.py` module here except this one is copied into each generated package, headed with
the generated-file header (generator/render.py, `runtime_files`). They import each other
relatively (`from . import _runtime`), so they work the same here, where they are linted,
type-checked and unit-tested, and inside a generated package.
"""
