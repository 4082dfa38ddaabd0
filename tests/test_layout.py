"""The package's layout rules, checked on its source: dependencies point one way.

Every module under skmir/ is parsed (ast) and every import is collected, at any
depth (imports inside functions count: a lazy import is still a dependency),
relative imports resolved, and ``from skmir.x import y`` counted as an import of
``skmir.x.y`` when that is a module (or of the submodule a lazy package names as
y's home). The rules:

(a) no import cycle among skmir's modules; the package root re-exports lazily
    and is no part of the graph, and no module imports it (``import skmir``, or
    ``from skmir import x`` with x no submodule): import the submodule that
    defines the name;
(b) imports point to the same or a lower layer (:data:`LAYERS`), but for the one
    declared exception (:data:`EXCEPTIONS`);
(c) the signal side imports no torch or skorch, so ``import skmir`` and an MFCC
    baseline stay light;
(d) no module imports another module's private names: a helper two modules need
    has a public name in a named home (e.g. skmir._files, skmir._validation);
(e) nothing imports the command (skmir.cli).
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skmir"

# Lowest first. A module belongs to the layer of the longest prefix listed; a module
# matching none is a failure (give it a layer).
LAYERS = [
    # 0: helpers (any top-level underscore module)
    ["skmir._*"],
    # 1: the signal side, no torch
    ["skmir.io", "skmir.representations", "skmir.preprocessing", "skmir.datasets",
     "skmir.frames", "skmir.store", "skmir.augmentation", "skmir.tonality"],
    # 2: torch modules
    ["skmir.nn"],
    # 3: shipped weights, cards, the one loader
    ["skmir.pretrained"],
    # 4: sklearn estimators over nn and pretrained
    ["skmir.neural", "skmir.features", "skmir.tagging", "skmir.annotation"],
    # 5
    ["skmir.pipelines", "skmir.model_selection", "skmir.plot"],
    # 6: nothing imports it
    ["skmir.cli"],
]
# (importer, imported, why): upward imports allowed, and only inside a function.
EXCEPTIONS = [
    ("skmir.representations", "skmir.nn.representations",
     'backend="torch" of the representation transformers runs the torch kernels; '
     "imported inside the call, so the signal side loads no torch otherwise"),
]
NO_TORCH_LAYERS = (0, 1)


def _within(module, prefix):
    return module == prefix or module.startswith(prefix + ".")


def _module_name(path, root):
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(root):
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _lazy_names(path):
    """name -> submodule of a package that re-exports lazily (a ``_NAMES`` dict of
    submodule -> names, handed to lazy_loader.attach)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "_NAMES" for t in node.targets)):
            mapping = ast.literal_eval(node.value)
            return {name: sub for sub, names in mapping.items() for name in names}
    return {}


def collect_imports(root):
    """Every skmir-relative import of every module under ``root`` (a package folder).

    Returns
    -------
    imports : dict of str to list of dict
        Per module: ``target`` (the module imported, resolved as described above;
        for an outside package its dotted name), ``names`` (the names taken from it),
        ``lazy`` (inside a function or class) and ``line``.
    """
    modules = _modules(root)
    package = root.name
    lazy = {m: _lazy_names(p) for m, p in modules.items() if p.name == "__init__.py"}

    def resolve(base, name):
        if f"{base}.{name}" in modules:
            return f"{base}.{name}", []
        home = lazy.get(base, {}).get(name)
        if home is not None and base != package:
            return f"{base}.{home}", [name]
        return base, [name]

    out = {}
    for module, path in modules.items():
        here = module if path.name == "__init__.py" else module.rpartition(".")[0]
        found = []

        def visit(node, in_function, found=found, here=here):
            for child in ast.iter_child_nodes(node):
                nested = in_function or isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))
                if isinstance(child, ast.Import):
                    for alias in child.names:
                        found.append({"target": alias.name, "names": [],
                                      "lazy": in_function, "line": child.lineno})
                elif isinstance(child, ast.ImportFrom):
                    base = child.module or ""
                    if child.level:
                        parent = here.split(".")[:len(here.split(".")) - child.level + 1]
                        base = ".".join(parent + ([base] if base else []))
                    for alias in child.names:
                        target, names = (resolve(base, alias.name) if _within(base, package)
                                         else (base, [alias.name]))
                        found.append({"target": target, "names": names,
                                      "lazy": in_function, "line": child.lineno})
                visit(child, nested)

        visit(ast.parse(path.read_text(encoding="utf-8")), False)
        out[module] = found
    return out


def import_graph(imports, package="skmir"):
    """module -> set of the package's modules it imports (the package root left out)."""
    graph = {}
    for module, found in imports.items():
        if module == package:
            continue
        graph[module] = {i["target"] for i in found if _within(i["target"], package)
                         and i["target"] not in (package, module) and i["target"] in imports}
    return graph


def find_cycles(graph):
    """The strongly connected components of more than one module, each sorted (Tarjan)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def connect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(cycles)


def layer(module):
    """The layer of a skmir module (None when no layer lists it)."""
    best = None
    for k, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if prefix.endswith("._*"):
                top = module.split(".")
                hit = len(top) >= 2 and top[1].startswith("_") and not top[1].startswith("__")
                length = 2
            else:
                hit, length = _within(module, prefix), prefix.count(".") + 1
            if hit and (best is None or length > best[1]):
                best = (k, length)
    return None if best is None else best[0]


IMPORTS = collect_imports(PACKAGE)
MODULES = [m for m in IMPORTS if m != "skmir"]


def _where(module, i):
    return f"{module} (line {i['line']}) imports {i['target']}"


# ------------------------------------------------------------------ (a) cycles


def check_no_cycles(imports, package="skmir"):
    """Fail naming the modules of every import cycle."""
    cycles = find_cycles(import_graph(imports, package))
    assert not cycles, f"import cycles among {package}'s modules:\n" + "\n".join(
        "  " + " <-> ".join(c) for c in cycles)


def test_no_import_cycle():
    check_no_cycles(IMPORTS)


@pytest.mark.parametrize("name", MODULES)
def test_no_module_imports_the_package_root(name):
    bad = [_where(name, i) + (f" ({', '.join(i['names'])})" if i["names"] else "")
           for i in IMPORTS[name] if i["target"] == "skmir"]
    assert not bad, "import the submodule that defines the name: " + "; ".join(bad)


def test_the_checker_finds_a_planted_cycle(tmp_path):
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("")
    (root / "a.py").write_text("from pkg.sub import b\n")
    (root / "sub" / "b.py").write_text("def f():\n    from .. import c\n")
    (root / "c.py").write_text("import pkg.a\n")
    (root / "d.py").write_text("from pkg import a\n")  # into the cycle, not part of it
    graph = import_graph(collect_imports(root), package="pkg")
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.c"}  # relative and inside a function
    assert find_cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    with pytest.raises(AssertionError, match="pkg.a <-> pkg.c <-> pkg.sub.b"):
        check_no_cycles(collect_imports(root), package="pkg")
    assert find_cycles({"x": {"y"}, "y": set(), "z": {"x"}}) == []


# ------------------------------------------------------------------ (b) layers


@pytest.mark.parametrize("name", MODULES)
def test_imports_point_to_the_same_or_a_lower_layer(name):
    here = layer(name)
    assert here is not None, f"{name} is in no layer of LAYERS; give it one"
    bad = []
    for i in IMPORTS[name]:
        target = i["target"]
        if not _within(target, "skmir") or target == "skmir" or layer(target) <= here:
            continue
        declared = any(_within(name, a) and _within(target, b) for a, b, _ in EXCEPTIONS)
        if declared and i["lazy"]:
            continue
        bad.append(_where(name, i) + f" (layer {layer(target)} > {here})"
                   + (" at module level (the declared exception is lazy only)"
                      if declared else ""))
    assert not bad, "; ".join(bad)


# ------------------------------------------------------------------ (c) no torch


@pytest.mark.parametrize("name", [m for m in MODULES if layer(m) in NO_TORCH_LAYERS])
def test_signal_side_imports_no_torch(name):
    bad = [_where(name, i) for i in IMPORTS[name]
           if _within(i["target"], "torch") or _within(i["target"], "skorch")]
    assert not bad, "; ".join(bad)


def test_light_imports_load_no_torch():
    code = ("import sys, skmir, skmir.pipelines, skmir.model_selection, skmir.store; "
            "skmir.make_mfcc_baseline(); skmir.plot; skmir.nn.PRESETS; "
            "assert 'torch' not in sys.modules, 'torch loaded'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ (d) private names


def _private(part):
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


@pytest.mark.parametrize("name", MODULES)
def test_no_private_names_across_modules(name):
    bad = []
    for i in IMPORTS[name]:
        if not _within(i["target"], "skmir"):
            continue
        parts = i["target"].split(".")
        # a private submodule is its own package's business (skmir.datasets._music);
        # top-level helpers (skmir._files) are public homes
        for k in range(2, len(parts)):
            if _private(parts[k]) and not _within(name, ".".join(parts[:k])):
                bad.append(_where(name, i))
        bad += [f"{_where(name, i)}.{n}" for n in i["names"] if _private(n)]
    assert not bad, "; ".join(bad)


# ------------------------------------------------------------------ (e) the command


@pytest.mark.parametrize("name", [m for m in MODULES if m != "skmir.cli"])
def test_nothing_imports_the_command(name):
    bad = [_where(name, i) for i in IMPORTS[name] if _within(i["target"], "skmir.cli")]
    assert not bad, "; ".join(bad)
