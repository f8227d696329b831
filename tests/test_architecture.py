"""The package's layers import only downward (docs/architecture.md): checked on the source with
``ast``, function-level imports included, so a lazy import cannot hide an upward edge or a cycle."""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "onnxsym")

# module (or package prefix) -> layer; the most specific prefix wins
LAYERS = {
    "onnxsym": 0,  # the package itself: __version__ and the lazy public names (strings, not imports)
    "onnxsym.errors": 0, "onnxsym.defaults": 0, "onnxsym.parsing": 0, "onnxsym.stats": 0,
    "onnxsym.wording": 0, "onnxsym.files": 0, "onnxsym.terminal": 0, "onnxsym.schema": 0,
    "onnxsym.record": 0, "onnxsym.frames": 0,
    "onnxsym.model": 1,
    "onnxsym.weights": 2, "onnxsym.padding": 2, "onnxsym.consistency": 2,
    "onnxsym.auditing": 3, "onnxsym.study": 3, "onnxsym.engines": 3,
    "onnxsym.report": 4,
    "onnxsym.cli": 5, "onnxsym.__main__": 5,
}
SIBLINGS = ("onnxsym.weights", "onnxsym.padding", "onnxsym.consistency")  # L2: none imports another


def _modules():
    out = {}
    for dirpath, _dirs, files in os.walk(PACKAGE):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                name = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                is_pkg = name.endswith(".__init__")
                out[name[:-9] if is_pkg else name] = (path, is_pkg)
    return out


MODULES = _modules()


def _imports(name):
    """(target module, line) of every onnxsym import in module ``name`` (anywhere in it)."""
    path, is_pkg = MODULES[name]
    package = name if is_pkg else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("onnxsym"):
                continue
            # `from . import x` / `from .pkg import mod` name modules too
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub if sub in MODULES else target, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("onnxsym")]
    return found


def _layer(name):
    best = max((p for p in LAYERS if name == p or name.startswith(p + ".")), key=len)
    return LAYERS[best]


def _sibling(name):
    return next((s for s in SIBLINGS if name == s or name.startswith(s + ".")), None)


def test_every_module_has_a_layer():
    assert all(any(m == p or m.startswith(p + ".") for p in LAYERS if p != "onnxsym") or m == "onnxsym"
               for m in MODULES), [m for m in MODULES if not any(m.startswith(p + ".") for p in LAYERS)]


def test_imports_only_go_downward_and_l2_siblings_stay_apart():
    bad = []
    for name in MODULES:
        for target, line in _imports(name):
            if target == "onnxsym":
                continue  # `from .. import __version__`
            if _layer(target) > _layer(name):
                bad.append(f"{name}:{line} imports {target} (layer {_layer(target)} above {_layer(name)})")
            a, b = _sibling(name), _sibling(target)
            if a and b and a != b:
                bad.append(f"{name}:{line} imports its sibling {target}")
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph = {name: {t for t, _ in _imports(name) if t in MODULES and t != name and t != "onnxsym"}
             for name in MODULES}
    # a package's __init__ re-exporting its modules is not a cycle with them
    for name, (_path, is_pkg) in MODULES.items():
        if is_pkg:
            graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    state, stack, cycles = {}, [], []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for t in sorted(graph[n]):
            if state.get(t) == 1:
                cycles.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    assert not cycles, "\n".join(cycles)


def _docstrings(tree) -> set:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


FLAGS = ("--input", "--feed", "--batch", "--max-shift", "--seed", "--pairs", "--provider", "--images",
         "--layout", "--range", "--baseline", "--no-run", "--min-", "--config", "--pipeline", "--output-kind",
         "--jobs", "--cache", "--labels")


@pytest.mark.parametrize("name", ["onnxsym.model", "onnxsym.weights", "onnxsym.padding", "onnxsym.consistency",
                                  "onnxsym.auditing", "onnxsym.study", "onnxsym.engines", "onnxsym.report"])
def test_the_library_never_names_a_flag(name):
    """Messages name parameters (onnxsym.wording.param; the CLI words them as flags while it runs):
    no string below the CLI spells a flag (docstrings may mention the command line)."""
    bad = []
    for mod, (path, _is_pkg) in MODULES.items():
        if mod == name or mod.startswith(name + "."):
            tree = ast.parse(open(path, encoding="utf-8").read())
            docs = _docstrings(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                    if any(f in node.value for f in FLAGS):
                        bad.append(f"{mod}:{node.lineno}: {node.value[:60]!r}")
    assert not bad, "\n".join(bad)
