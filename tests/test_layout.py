"""The package's layout rules, checked on its source: dependencies point one way.

- the signal side (io, representations, preprocessing, datasets, frames) imports no
  torch, so ``import skmir`` and an MFCC baseline stay light; its ``backend="torch"``
  reaches torch only through :mod:`skmir.nn.representations`, imported inside the call;
- the torch side (skmir.nn) imports none of the sklearn wrappers built over it;
- nothing imports the command (skmir.cli);
- no module imports another module's private names: a helper two modules need has a
  named home (e.g. skmir._files, skmir._validation).
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skmir"
# skmir.store too: building and reading a feature store needs no torch
SIGNAL_SIDE = ("skmir.io", "skmir.representations", "skmir.preprocessing",
               "skmir.datasets", "skmir.frames", "skmir.store")
WRAPPERS = ("skmir.neural", "skmir.features", "skmir.pipelines", "skmir.model_selection",
            "skmir.evaluation", "skmir.estimators", "skmir.frame_estimators", "skmir.cli")


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path):
    """(module, names) of every import statement, at any depth (lazy imports too)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, [alias.name for alias in node.names]))
    return out


def _within(module, packages):
    return any(module == p or module.startswith(p + ".") for p in packages)


@pytest.mark.parametrize("name", [m for m in MODULES if _within(m, SIGNAL_SIDE)])
def test_signal_side_imports_no_torch(name):
    bad = [m for m, _ in _imports(MODULES[name]) if _within(m, ("torch", "skorch"))
           or _within(m, WRAPPERS) and not _within(m, SIGNAL_SIDE)]
    assert not bad, f"{name} imports {bad}"


@pytest.mark.parametrize("name", [m for m in MODULES if _within(m, ("skmir.nn",))])
def test_torch_side_imports_none_of_the_wrappers(name):
    bad = [m for m, _ in _imports(MODULES[name]) if _within(m, WRAPPERS)]
    assert not bad, f"{name} imports {bad}"


@pytest.mark.parametrize("name", list(MODULES))
def test_no_module_imports_the_command_or_private_names(name):
    bad = []
    for module, names in _imports(MODULES[name]):
        if _within(module, ("skmir.cli",)) and name != "skmir.cli":
            bad.append(module)
        if module.startswith("skmir"):
            bad += [f"{module}.{n}" for n in names if n.startswith("_")]
    assert not bad, f"{name} imports {bad}"


def test_light_imports_load_no_torch():
    code = ("import sys, skmir, skmir.pipelines, skmir.model_selection; "
            "skmir.make_mfcc_baseline(); assert 'torch' not in sys.modules, 'torch loaded'")
    subprocess.run([sys.executable, "-c", code], check=True)
