"""The package's import graph is a ladder (registry -> core -> data -> train -> chapters -> guide/bench -> cli): no module
imports, at its top or inside a function, a `lowres_ft` module that (directly or not) imports it back, and no
`lowres_ft` import hides inside a function. The one import by name left is `registry.load_plugins` (importlib, on a
lookup miss), so that a method, objective or model source registered in any module is found; it is tested below.
Importing the package changes no logging level and no warning filter."""
import ast, json, subprocess, sys
from pathlib import Path
import pytest

PKG = Path(__file__).resolve().parents[1]/'lowres_ft'
SKIP = {'_modidx'}


def _module_name(path: Path) -> str: return 'lowres_ft' if path.stem == '__init__' else f'lowres_ft.{path.stem}'


def _targets(node, here: str) -> list[str]:
    "The `lowres_ft` modules an import statement imports (relative imports resolved against module `here`)."
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split('.')[0] == 'lowres_ft']
    if node.level:   # `from . import data`, `from .core import x` inside lowres_ft/<here>.py
        base = 'lowres_ft' + (f'.{node.module}' if node.module else '')
    elif node.module and node.module.split('.')[0] == 'lowres_ft': base = node.module
    else: return []
    if base == 'lowres_ft':   # `from lowres_ft import core` imports a module; `from lowres_ft import __version__` the package
        return [f'lowres_ft.{a.name}' if (PKG/f'{a.name}.py').exists() else 'lowres_ft' for a in node.names]
    return [base]


def import_graph() -> dict:
    "{module: {imported module: 'top' | 'function'}} for the `lowres_ft` imports of every module of the package."
    graph = {}
    for f in sorted(PKG.glob('*.py')):
        if f.stem in SKIP: continue
        here = _module_name(f); tree = ast.parse(f.read_text()); edges = {}
        top = {id(n) for n in tree.body} | {id(n) for s in tree.body if isinstance(s, (ast.If, ast.Try)) for n in ast.walk(s)}
        for n in ast.walk(tree):
            if isinstance(n, (ast.Import, ast.ImportFrom)):
                for t in _targets(n, here):
                    if t != here and edges.get(t) != 'top': edges[t] = 'top' if id(n) in top else 'function'
        graph[here] = edges
    return graph


def cycles(graph: dict) -> list[list[str]]:
    "The strongly connected components with more than one module (Tarjan): each is at least one import cycle."
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in graph.get(v, {}):
            if w not in graph: continue
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for v in sorted(graph):
        if v not in index: visit(v)
    return out


def test_no_import_cycle():
    "Counting imports anywhere in a module (top or function): the package has no cycle."
    found = cycles(import_graph())
    assert not found, f'{len(found)} import cycle(s) in lowres_ft (module groups that import each other): {found}'


def test_no_lowres_ft_import_inside_a_function():
    "Every module's `lowres_ft` imports sit at its top, where a reader (and this test) sees the ladder."
    hidden = sorted(f'{m} -> {t}' for m, es in import_graph().items() for t, where in es.items() if where == 'function')
    assert not hidden, f'lowres_ft imports inside functions (move them to the top of the module): {hidden}'


def test_core_and_registry_are_leaves():
    g = import_graph()
    assert g['lowres_ft.registry'] == {}, f"registry must import nothing from the package, imports {g['lowres_ft.registry']}"
    assert set(g['lowres_ft.core']) <= {'lowres_ft.registry'}, f"core may import only the registry, imports {g['lowres_ft.core']}"


def _registering_modules() -> set:
    "Modules whose top level calls a registry's `register_*` (a decorator or a call)."
    out = set()
    for f in PKG.glob('*.py'):
        if f.stem in SKIP | {'registry'}: continue
        for n in ast.walk(ast.parse(f.read_text())):
            if isinstance(n, ast.Call):
                fn = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, 'id', '')
                if fn in ('register_method', 'register_objective', 'register_source'): out.add(_module_name(f)); break
    return out


def test_every_registering_module_is_loaded_on_a_lookup_miss():
    "The registries find a registration in any module without a list to edit: `load_plugins` imports them all."
    from lowres_ft.registry import load_plugins
    mods = _registering_modules()
    assert {'lowres_ft.train', 'lowres_ft.base', 'lowres_ft.real_model', 'lowres_ft.peft_methods', 'lowres_ft.align'} <= mods, mods
    assert mods <= set(load_plugins()), f'load_plugins misses {sorted(mods - set(load_plugins()))}'


def test_registered_anywhere_is_found_from_a_fresh_process():
    "A method, objective or model source registered in a chapter module is found without importing that module."
    code = ("import sys\nfrom lowres_ft.registry import get_method, get_objective\nfrom lowres_ft.core import get_source\n"
            "assert 'lowres_ft.train' not in sys.modules and 'lowres_ft.base' not in sys.modules\n"
            "print(get_method('dora').name, get_objective('dpo').name, get_source('embedded:smollm2').name)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ['dora', 'dpo', 'embedded:smollm2-135m-instruct'], r.stdout


_STATE = """
import importlib, json, logging, sys, warnings
def state():
    levels = {n: l.level for n, l in logging.root.manager.loggerDict.items() if isinstance(l, logging.Logger) and l.level}
    return dict(filters=sorted(set(map(repr, warnings.filters))), levels=levels)
"""

def _run(code: str) -> dict:
    r = subprocess.run([sys.executable, '-'], input=_STATE + code, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return {**json.loads(r.stdout.strip().splitlines()[-1]), 'stderr': r.stderr}

@pytest.mark.parametrize('stmt', ['import lowres_ft.core', 'import lowres_ft.train', 'import lowres_ft.align',
                                  'import lowres_ft.registry; lowres_ft.registry.load_plugins()'])
def test_import_changes_no_global_state(stmt):
    """Importing the package sets no logger level and adds no warning filter of its own, and prints nothing: the state
    after the import is compared with a process that imports the same third-party modules (in the same order) alone."""
    ours = _run(f"{stmt}\nmods = [m for m in sys.modules if not m.startswith('lowres_ft')]\n"
                "print(json.dumps({**state(), 'mods': mods}))")
    theirs = _run(f"for m in {ours['mods']!r}:\n    try: importlib.import_module(m)\n    except Exception: pass\n"
                  "print(json.dumps(state()))")
    added = sorted(set(ours['filters']) - set(theirs['filters']))   # (importing every module alone may add more: theirs, not ours)
    assert not added, f'{stmt} added warning filters: {added}'
    changed = {k: v for k, v in ours['levels'].items() if theirs['levels'].get(k) != v}
    assert not changed, f'{stmt} changed logger levels: {changed}'
    assert 'gemm_4bit' not in ours['stderr'], f"{stmt} printed bitsandbytes' kernel warning"


if __name__ == '__main__':
    g = import_graph()
    for c in cycles(g): print('cycle:', c)
    print('function-level lowres_ft imports:', sum(w == 'function' for es in g.values() for w in es.values()))
