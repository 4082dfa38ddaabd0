"""Sphinx configuration of skmir's documentation site.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The gallery runs every script of ``examples/`` with ``--quick`` (small data, few
epochs), so the figures and printed results on the site are smoke runs, not the
measured figures that each example's docstring quotes.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))  # gallery_args, named below by its qualified name
os.environ.setdefault("MPLBACKEND", "Agg")

import skmir  # noqa: E402

project = "skmir"
author = "the skmir developers"
copyright = "the skmir developers, BSD-3-Clause"
release = skmir.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# Links to the numpy, scikit-learn, librosa and torch docs need their inventories from
# the network; the default build is offline and warning-free without them.
if os.environ.get("SKMIR_DOCS_INTERSPHINX"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "librosa": ("https://librosa.org/doc/latest", None),
        "torch": ("https://pytorch.org/docs/stable", None),
    }

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json"]
root_doc = "index"

autosummary_generate = True
autosummary_imported_members = False
# skmir.nn.blocks has Dropout and dropout: pages whose names differ only in case
# would overwrite each other on macOS's and Windows' file systems.
autosummary_filename_map = {"skmir.nn.blocks.dropout": "skmir.nn.blocks.dropout-function"}
autodoc_typehints = "none"
autodoc_default_options = {"member-order": "groupwise"}
# numpydoc renders the Parameters/Returns sections; the class pages list their own
# methods (templates/autosummary/class.rst), so numpydoc's member tables are off.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"skmir {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # every script runs (not only plot_*), in its --quick mode
    "filename_pattern": r"\.py$",
    "reset_argv": "gallery_args.reset_argv",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    # a failing example fails the build
    "abort_on_example_error": True,
}


def write_command_help(app=None):
    """The ``--help`` of each sub-command, for the command-line page: always the
    installed command's own text (run when the build starts)."""
    import contextlib
    import io

    from skmir.cli import main

    out = DOCS / "generated" / "cli"
    out.mkdir(parents=True, exist_ok=True)
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal's width
    for command in ("compare", "tag"):
        text = io.StringIO()
        with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
            main([command, "--help"])
        path = out / f"{command}.txt"
        if not path.is_file() or path.read_text() != text.getvalue():
            path.write_text(text.getvalue())


def _defined_outside_skmir(obj):
    """Whether a class member comes from numpy, sklearn, torch or skorch, not skmir."""
    for holder in (obj, getattr(obj, "fget", None), getattr(obj, "__func__", None),
                   getattr(obj, "__objclass__", None)):
        module = getattr(holder, "__module__", None)
        if isinstance(module, str):
            return not module.startswith("skmir")
    return False


def skip_member(app, what, name, obj, skip, options):
    """Class pages list skmir's own methods, inherited ones included, not those that
    sklearn's base classes, ndarray or torch's Module give every subclass."""
    if what == "class" and _defined_outside_skmir(obj):
        return True
    return None


def setup(app):
    app.connect("builder-inited", write_command_help)
    app.connect("autodoc-skip-member", skip_member)
