"""Command-line arguments of the examples when the documentation's gallery runs them.

Every example takes ``--quick`` (a smoke run on little data, as the tests use);
sphinx-gallery sets ``sys.argv`` from :func:`reset_argv` before running each one,
in the example's own folder.
"""

import tempfile
from pathlib import Path


def reset_argv(gallery_conf, script_vars):
    """``--quick`` for every example, and for one that saves a figure (an ``--out``
    option) a file in the temporary folder, not in the source tree."""
    src = Path(script_vars["src_file"])
    args = ["--quick"]
    if '"--out"' in src.read_text(encoding="utf-8"):
        args += ["--out", str(Path(tempfile.gettempdir()) / f"skmir-docs-{src.stem}.png")]
    return args
