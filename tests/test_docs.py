"""The documentation site holds: its Sphinx configuration loads and names its
extensions, the API reference lists every public name, the user guide's code runs,
the design page names every module, every example can enter the gallery, and no
page points outside the repository.

The full build (every example run for the gallery) takes minutes; it runs here only
with SKMIR_DOCS_BUILD=1.
"""

import ast
import doctest
import importlib
import inspect
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import skmir

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
GUIDE = sorted((DOCS / "user_guide").glob("*.rst"))
# Pages written by hand (not the build's output folders)
PAGES = sorted(p for p in DOCS.rglob("*") if p.suffix in (".rst", ".py", ".txt")
               and not {"_build", "generated", "auto_examples"} & set(p.relative_to(DOCS).parts))
# Modules whose public names the API reference lists: their __all__, or else the
# functions and classes they define
MODULES = ["skmir.datasets", "skmir.io", "skmir.frames", "skmir.plot", "skmir.augmentation",
           "skmir.model_selection", "skmir.pipelines", "skmir.pretrained",
           "skmir.pretrained.musicnn", "skmir.pretrained.crepe", "skmir.pretrained.basicpitch",
           "skmir.features",
           "skmir.neural", "skmir.tagging", "skmir.annotation",
           "skmir.store", "skmir.nn", "skmir.nn.blocks", "skmir.nn.losses",
           "skmir.nn.representations", "skmir.nn.frontends", "skmir.nn.augmentation",
           "skmir.nn.device",
           "skmir.nn.vocoder"]


@pytest.fixture(scope="module")
def conf():
    return runpy.run_path(str(DOCS / "conf.py"))


def _api_entries():
    """Fully qualified names of the autosummary entries of docs/api.rst, in order."""
    names, module, in_summary = [], None, False
    for line in (DOCS / "api.rst").read_text().splitlines():
        if line.startswith(".. currentmodule::"):
            module = line.split("::")[1].strip()
        elif line.startswith(".. autosummary::"):
            in_summary = True
        elif in_summary and line.strip() and not line.startswith("   "):
            in_summary = False
        elif in_summary and line.strip() and not line.strip().startswith(":"):
            names.append(f"{module}.{line.strip()}")
    return names


def _resolve(qualified):
    module, _, name = qualified.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _public(module_name):
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [n for n, o in vars(module).items() if not n.startswith("_")
            and (inspect.isfunction(o) or inspect.isclass(o)) and o.__module__ == module_name]


def test_the_configuration_loads_and_names_its_extensions(conf):
    assert conf["extensions"][:4] == ["sphinx.ext.autodoc", "sphinx.ext.autosummary",
                                      "numpydoc", "sphinx_gallery.gen_gallery"]
    # intersphinx needs the network: only on request
    assert ("sphinx.ext.intersphinx" in conf["extensions"]) == bool(
        os.environ.get("SKMIR_DOCS_INTERSPHINX"))
    assert conf["html_theme"] == "pydata_sphinx_theme"
    assert conf["release"] == skmir.__version__
    gallery = conf["sphinx_gallery_conf"]
    assert all(re.search(gallery["filename_pattern"], str(p)) for p in EXAMPLES)
    assert gallery["examples_dirs"] == "../examples" and gallery["reset_argv"]


def test_the_gallery_runs_every_example_quickly():
    sys.path.insert(0, str(DOCS))
    try:
        from gallery_args import reset_argv
    finally:
        sys.path.remove(str(DOCS))
    for script in EXAMPLES:
        args = reset_argv({}, {"src_file": str(script)})
        assert args[0] == "--quick"
        assert not any(str(ROOT) in a for a in args), "an example would write into the repo"


def test_the_extensions_are_installed_with_the_docs_extra():
    for name in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
        pytest.importorskip(name)


def test_every_api_entry_exists():
    missing = []
    for qualified in _api_entries():
        try:
            _resolve(qualified)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{qualified} ({exc})")
    assert not missing, f"docs/api.rst lists names that do not exist: {missing}"


def test_every_public_name_is_in_the_api_reference():
    documented = {id(_resolve(q)) for q in _api_entries()}
    undocumented = [f"skmir.{n}" for n in skmir.__all__
                    if not inspect.ismodule(getattr(skmir, n))
                    and id(getattr(skmir, n)) not in documented]
    for module in MODULES:
        for name in _public(module):
            obj = getattr(importlib.import_module(module), name)
            # constants (ints, strings, tuples) may be equal objects under two names
            if id(obj) not in documented and (callable(obj) or inspect.isclass(obj)):
                undocumented.append(f"{module}.{name}")
    assert not undocumented, f"add to docs/api.rst: {undocumented}"


def test_the_datasets_module_has_its_section():
    assert "skmir.datasets" in (DOCS / "api.rst").read_text()


@pytest.mark.parametrize("page", GUIDE, ids=lambda p: p.name)
def test_the_user_guide_code_runs(page):
    result = doctest.testfile(str(page), module_relative=False, verbose=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


def test_the_design_page_names_every_module():
    text = (DOCS / "design.rst").read_text()
    modules = sorted(str(p.relative_to(ROOT / "skmir")) for p in (ROOT / "skmir").rglob("*.py"))
    missing = [m for m in modules if f"``{m}``" not in text]
    assert not missing, f"docs/design.rst's package layout lacks {missing}"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_every_example_has_a_gallery_header(script):
    doc = ast.get_docstring(ast.parse(script.read_text()), clean=False)
    assert doc, f"{script.name} has no docstring"
    title, underline = (doc.splitlines() + ["", ""])[:2]
    assert title.strip() and set(underline) == {"="} and len(underline) >= len(title), (
        f"{script.name}: the docstring must start with a title underlined with '='")
    assert "--quick" in script.read_text()


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_an_example_that_saves_a_figure_leaves_it_to_the_gallery(script):
    """The gallery shows the figures still open when a script ends and runs it in
    examples/: a saved figure stays open and goes where --out says (a temporary file
    in the gallery, docs/gallery_args.py)."""
    text = script.read_text()
    if "save_figure(" in text or ".savefig(" in text:
        assert '"--out"' in text, f"{script.name} saves a figure: give it an --out option"
        assert ".savefig(" not in text and "close=False" in text, (
            f"{script.name}: save with skmir.plot.save_figure(..., close=False)")


def test_the_gallery_has_a_header():
    header = (ROOT / "examples" / "GALLERY_HEADER.rst").read_text().splitlines()
    assert "Examples" in header and any(set(line) == {"="} for line in header)


def test_no_page_points_outside_the_repository():
    pages = PAGES + [ROOT / "examples" / "GALLERY_HEADER.rst"] + EXAMPLES
    bad = [str(p.relative_to(ROOT)) for p in pages
           if re.search(r"\.\./shared|/work/shared", p.read_text())]
    assert not bad


@pytest.mark.skipif(not os.environ.get("SKMIR_DOCS_BUILD"),
                    reason="the full build runs every example (minutes): SKMIR_DOCS_BUILD=1")
def test_the_site_builds_without_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", str(DOCS),
         str(tmp_path / "html")], capture_output=True, text=True, timeout=3000,
        env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
