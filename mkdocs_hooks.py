"""MkDocs hook: build the offline docs from the same processed notebooks that `nbdev-docs` (Quarto) renders.

`mkdocs build` runs nbdev's own notebook processing (`nbdev.serve.proc_nbs`: hides `#| hide` cells, turns the title
and `> subtitle` into front matter, renders `show_doc` API reference for every exported symbol) into `_proc/`, then
translates the few Quarto conventions MkDocs does not know (front matter, `#| echo: false`, `#| include: false`,
`#| output: false`) into plain notebook cells and tags for mkdocs-jupyter, and points `docs_dir` at the result.
Set LOWRES_FT_DOCS_RAW=1 to render `nbs/` as is (no nbdev processing: faster, but directives stay visible).
"""
from __future__ import annotations
import json, os, re, shutil
from pathlib import Path

import yaml

_QUARTO_ATTRS = re.compile(r'(\]\([^)]*\))\{[^}]*\}')
_DIRECTIVE = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')


_CELL_KEYS = {'code': {'cell_type', 'execution_count', 'id', 'metadata', 'outputs', 'source'},
              'markdown': {'cell_type', 'id', 'metadata', 'source', 'attachments'},
              'raw': {'cell_type', 'id', 'metadata', 'source', 'attachments'}}


def _directives(src: str) -> dict:
    "The `#| key: value` directives at the top of a code cell (Quarto style and nbdev style)."
    out = {}
    for line in src.splitlines():
        m = _DIRECTIVE.match(line)
        if not m: break
        out[m.group(1).lower()] = m.group(2).lower()
    return out


def _strip_directives(src: str) -> str:
    lines = src.splitlines()
    while lines and _DIRECTIVE.match(lines[0]): lines.pop(0)
    return '\n'.join(lines)


def _front_matter_cell(src: str) -> dict | None:
    "A markdown title cell for a Quarto front matter raw cell (`---\\ntitle: ...\\n---`), else None."
    s = src.strip()
    if not (s.startswith('---') and s.endswith('---')): return None
    fm = yaml.safe_load(s.strip('-').strip()) or {}
    title, desc = fm.get('title'), fm.get('description')
    if not title: return None
    md = f'# {title}' + (f'\n\n> {desc}' if desc else '')
    return {'cell_type': 'markdown', 'metadata': {}, 'source': md}


def adapt_notebook(nb: dict) -> dict:
    "Translate Quarto conventions in an nbdev-processed notebook into what mkdocs-jupyter renders."
    cells = []
    for c in nb.get('cells', []):
        src = ''.join(c.get('source', ''))
        if c['cell_type'] == 'raw':
            md = _front_matter_cell(src)
            if md: cells.append(md)
            continue
        if c['cell_type'] == 'code':
            d = _directives(src)
            if d.get('include') == 'false' or 'hide' in d: continue   # nbdev drops `#| hide` cells (raw mode)
            tags = set(c.get('metadata', {}).get('tags', []))
            if d.get('echo') == 'false': tags.add('remove_input')
            if d.get('output') == 'false': c['outputs'] = []
            c['source'] = _strip_directives(src)
            c['metadata'] = {'tags': sorted(tags)}   # drop nbdev's timing metadata (not valid nbformat)
            for o in c.get('outputs', []):             # show_doc's Quarto link attributes: [source](url){target=...}
                md = o.get('data', {}).get('text/markdown')
                if md: o['data']['text/markdown'] = _QUARTO_ATTRS.sub(r'\1', ''.join(md))
            if not c['source'].strip() and not c.get('outputs'): continue
        cells.append({k: v for k, v in c.items() if k in _CELL_KEYS[c['cell_type']]})   # nbdev adds e.g. `has_sd`
    nb['cells'] = cells
    return nb


def page_name(nb_path: Path, nb: dict | None = None) -> str:
    "The page name Quarto gives a notebook: front matter `output-file`, else the stem without its number prefix."
    nb = nb if nb is not None else json.loads(Path(nb_path).read_text(encoding='utf-8'))
    for c in nb.get('cells', [])[:2]:
        s = ''.join(c.get('source', '')).strip()
        if c['cell_type'] == 'raw' and s.startswith('---'):
            out = (yaml.safe_load(s.strip('-').strip()) or {}).get('output-file')
            if out: return Path(out).stem
    return re.sub(r'^\d+_', '', Path(nb_path).stem)


def course_order(root: Path) -> list[str]:
    "Notebook file names in the order of nbs/sidebar.yml (the course order), then any others."
    side = yaml.safe_load((Path(root)/'nbs'/'sidebar.yml').read_text())['website']['sidebar']['contents']
    names = [Path(s).name for s in side if isinstance(s, str)]
    return names + sorted(p.name for p in (Path(root)/'nbs').glob('*.ipynb') if p.name not in names)


def build_docs_dir(root: Path, raw: bool = False) -> Path:
    "Process `nbs/` with nbdev and write mkdocs-ready notebooks to `_proc/.mkdocs`; return that folder."
    root = Path(root)
    out = root/'_proc'/'.mkdocs'
    if raw: src = root/'nbs'
    else:
        from nbdev.serve import proc_nbs
        cwd = os.getcwd()
        try:
            os.chdir(root)
            src = Path(proc_nbs(n_workers=int(os.environ.get('LOWRES_FT_DOCS_WORKERS', '2'))))
        finally: os.chdir(cwd)
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    nav = []
    for name in course_order(root):   # pages keep Quarto's names (core.html, ...) so links between pages work
        f = src/name
        if not f.exists(): continue
        nb = json.loads(f.read_text(encoding='utf-8'))
        page = page_name(root/'nbs'/name, nb)
        (out/f'{page}.ipynb').write_text(json.dumps(adapt_notebook(nb)), encoding='utf-8')
        nav.append(f'{page}.ipynb')
    for f in src.glob('*.css'): shutil.copy2(f, out/f.name)
    (out/'nav.json').write_text(json.dumps(nav))
    return out


def on_config(config, **kwargs):
    root = Path(config['config_file_path']).parent
    out = build_docs_dir(root, raw=os.environ.get('LOWRES_FT_DOCS_RAW') == '1')
    config['docs_dir'] = str(out)
    config['nav'] = json.loads((out/'nav.json').read_text())   # sidebar.yml order = course order
    return config
