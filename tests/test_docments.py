"""Every public function and class says what it does and what each parameter means.

The docs pages render each exported symbol with `show_doc`, which shows the docstring under the signature and each
parameter's docment (the `# comment` after it) beside it. This test walks every `lowres_ft` module's `__all__` and
every function registered in a registry (methods, objectives, ... wherever they live) and lists what would render
empty. Run `python tests/test_docments.py` for the per-module counts over the whole package."""
import importlib, inspect, pkgutil, dataclasses, sys, ast, io, textwrap, tokenize
import pytest
from fastcore.docments import docments, docstring, get_source
import lowres_ft

# Modules whose public API must be fully documented. To hold another module to it, add its name here.
DOCUMENTED = ('core', 'registry', 'data', 'base', 'train', 'real_model', 'evaluate', 'cpt', 'peft_methods', 'fewshot', 'align',
              'forgetting', 'guide', 'bench', 'cli')

_SKIP_PARAMS = ('self', 'cls')
_VAR = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)

def _modules() -> dict:
    "Every public `lowres_ft` submodule, imported, by short name."
    return {m.name: importlib.import_module(f'lowres_ft.{m.name}')
            for m in pkgutil.iter_modules(lowres_ft.__path__) if not m.name.startswith('_')}

def _public(mod) -> list:
    "Functions and classes in `mod.__all__` that `mod` defines (re-exports are checked where they are defined)."
    objs = [getattr(mod, n) for n in getattr(mod, '__all__', [])]
    return [o for o in objs if (inspect.isfunction(o) or inspect.isclass(o)) and o.__module__ == mod.__name__]

def _registries(mods:dict) -> dict:
    "Module-level dicts of `lowres_ft` dataclass entries that carry a callable (a registry), by id."
    regs = {}
    for mn, mod in mods.items():
        for k, v in vars(mod).items():
            if not (isinstance(v, dict) and v): continue
            entries = list(v.values())
            if not all(dataclasses.is_dataclass(e) and not isinstance(e, type)
                       and type(e).__module__.startswith('lowres_ft') for e in entries): continue
            if any(callable(getattr(e, f.name)) for e in entries for f in dataclasses.fields(e)):
                regs.setdefault(id(v), (f'{mn}.{k}', v))
    return dict(regs.values())

def _registered(mods:dict) -> tuple:
    "(functions registered in any registry that the docs can render, registry entries without a `doc`)."
    fns, undoc = {}, []
    for rname, reg in _registries(mods).items():
        for key, e in reg.items():
            if hasattr(e, 'doc') and not (e.doc or '').strip(): undoc.append(f'{rname}[{key!r}]: empty doc')
            for f in dataclasses.fields(e):
                fn = getattr(e, f.name)
                if (inspect.isfunction(fn) and fn.__module__.startswith('lowres_ft') and not fn.__name__.startswith('_')
                        and '<locals>' not in fn.__qualname__): fns[id(fn)] = fn
    return list(fns.values()), undoc

def fn_problems(o) -> list:
    "What `show_doc(o)` would render empty: no docstring, a parameter without a docment, `NoneType` for an unannotated `None`."
    name = f'{o.__module__.removeprefix("lowres_ft.")}.{o.__qualname__}'
    out = [] if docstring(o).strip() and not _auto_dataclass_doc(o) else [f'{name}: no docstring']
    try: dm = docments(o, full=True, returns=False)
    except Exception as e: return out + [f'{name}: docments failed ({type(e).__name__}: {e})']
    for k, v in dm.items():
        if k in _SKIP_PARAMS or v.kind in _VAR: continue
        if not v.docment: out.append(f'{name}({k}): no docment')
        if v.anno is type(None): out.append(f'{name}({k}): unannotated default None renders as NoneType')
    if (leak := _borrowed_return_doc(o)):
        out.append(f'{name}: the return shows the comment above it ({leak!r}, e.g. a `**kwargs` comment); '
                   f'give the `) -> ...:` line its own comment')
    return out

def _borrowed_return_doc(o) -> str|None:
    "fastcore takes a return docment from the comment lines above an uncommented `) -> X:` line; that comment, else None."
    f = o.__init__ if inspect.isclass(o) and not dataclasses.is_dataclass(o) else o
    try: src = textwrap.dedent(get_source(f) or ''); d = ast.parse(src).body[0]
    except Exception: return None
    if not isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)) or d.returns is None: return None
    doc = docments(o, full=True).get('return', {}).get('docment')
    if not doc: return None
    commented = {t.start[0] for t in tokenize.generate_tokens(io.StringIO(src).readline) if t.type == tokenize.COMMENT}
    return None if d.returns.lineno in commented else doc

def _auto_dataclass_doc(o) -> bool:
    "True when `o` is a dataclass whose docstring is the signature `dataclasses` writes when none is given."
    return inspect.isclass(o) and dataclasses.is_dataclass(o) and (o.__doc__ or '').startswith(f'{o.__name__}(')

def problems(mods:dict|None=None) -> dict:
    "Problems per module short name, over public symbols and registered functions."
    mods = mods or _modules()
    seen, res = {}, {mn: [] for mn in mods}
    for mn, mod in mods.items():
        for o in _public(mod): seen[id(o)] = o
    fns, undoc = _registered(mods)
    for fn in fns: seen[id(fn)] = fn
    for o in seen.values(): res.setdefault(o.__module__.removeprefix('lowres_ft.'), []).extend(fn_problems(o))
    for u in undoc: res.setdefault(u.split('.')[0], []).append(u)
    return res

def counts(mods:dict|None=None) -> dict:
    "Per module: parameters checked, parameters without a docment, symbols without a docstring."
    mods = mods or _modules()
    res = {}
    for mn, ps in problems(mods).items():
        mod = mods.get(mn)
        objs = _public(mod) if mod else []
        n = sum(1 for o in objs for k, v in _safe_docments(o).items() if k not in _SKIP_PARAMS and v.kind not in _VAR)
        res[mn] = dict(params=n, no_docment=sum('no docment' in p for p in ps),
                       no_docstring=sum('no docstring' in p or 'empty doc' in p for p in ps),
                       none_type=sum('NoneType' in p for p in ps))
    return res

def _safe_docments(o) -> dict:
    try: return docments(o, full=True, returns=False)
    except Exception: return {}

# ---- the checker itself finds what it should (so the real test can fail) --------------------------------------------
def _undocumented(a, b=None): pass

def _documented(a:int, # how many
                b:str|None=None, # a label; None means no label
               ) -> int:
    "Return `a`."
    return a

def _leaky(a:int, # how many
          **kwargs, # more options
         ) -> int:
    "Return `a`."
    return a

@dataclasses.dataclass
class _AutoDoc:
    x:int = 0  # a number

def test_checker_finds_missing():
    ps = fn_problems(_undocumented)
    assert any('no docstring' in p for p in ps), ps
    assert any('(a): no docment' in p for p in ps) and any('(b): no docment' in p for p in ps), ps
    assert any('(b): unannotated default None' in p for p in ps), ps
    assert fn_problems(_documented) == []
    assert any('return shows the comment above it' in p for p in fn_problems(_leaky)), fn_problems(_leaky)
    assert any('no docstring' in p for p in fn_problems(_AutoDoc))

def test_registries_found():
    mods = _modules()
    regs = _registries(mods)
    assert any('lora' in r for r in regs.values()), f"no method registry found among {list(regs)}"
    fns, _ = _registered(mods)
    assert any(f.__name__ == 'lora' for f in fns), [f.__name__ for f in fns]

@pytest.mark.parametrize('module', DOCUMENTED)
def test_public_api_documented(module):
    ps = problems()[module]
    assert not ps, f"{len(ps)} undocumented in lowres_ft.{module} (add a docstring / a `# comment` after each parameter " \
                   f"in its notebook, then nbdev-export):\n" + '\n'.join(ps)

if __name__ == '__main__':
    c = counts()
    for mn, d in sorted(c.items()): print(f'{mn:14s} {d}')
    tot = {k: sum(d[k] for d in c.values()) for k in ('params', 'no_docment', 'no_docstring', 'none_type')}
    print('total', tot)
    if '-v' in sys.argv:
        for mn, ps in sorted(problems().items()):
            for p in ps: print(p)
