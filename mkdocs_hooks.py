"""MkDocs hook: build the offline docs from the same processed notebooks that `nbdev-docs` (Quarto) renders.

`mkdocs build` runs nbdev's own notebook processing (`nbdev.serve.proc_nbs`: hides `#| hide` cells, turns the title
and `> subtitle` into front matter, renders `show_doc` API reference for every exported symbol) into `_proc/`, then
translates the few Quarto conventions MkDocs does not know (front matter, `#| echo: false`, `#| include: false`,
`#| output: false`) into plain notebook cells and tags for mkdocs-jupyter, and points `docs_dir` at the result.
After each page renders it keeps the offline site self-contained and its navigation true to the page:
symbol links to the published site become links between local pages, the Colab badge image is a local file, and
the table of contents and nav label are read from the headings the page really has (headings with code in them
keep their code and their anchors).
Set LOWRES_FT_DOCS_RAW=1 to render `nbs/` as is (no nbdev processing: faster, but directives stay visible).
"""
from __future__ import annotations
import html, json, os, re, shutil
from pathlib import Path

import yaml

_QUARTO_ATTRS = re.compile(r'(\]\([^)]*\))\{[^}]*\}')
# nbdev's show_doc types a parameter without an annotation by its default: `ax:NoneType=None`. It has no type.
_NONETYPE = re.compile(r'(\w+):\s*NoneType(\s*=\s*None)')
COLAB_BADGE = 'https://colab.research.google.com/assets/colab-badge.svg'
BADGE_FILE = 'assets/colab-badge.svg'   # the badge image, drawn locally: the offline site loads nothing from the web
_BADGE_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img" aria-label="Open in Colab">'
              '<rect width="117" height="20" rx="3" fill="#555"/><rect x="54" width="63" height="20" rx="3" fill="#f9ab00"/>'
              '<rect x="54" width="6" height="20" fill="#f9ab00"/>'
              '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">'
              '<text x="27" y="14">Open in</text><text x="85.5" y="14" fill="#222">Colab</text></g></svg>')
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
        if c['cell_type'] == 'markdown' and re.fullmatch(r'\s*<!--.*?-->\s*', src, re.S): continue   # nbdev's notice
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
                if md: o['data']['text/markdown'] = _NONETYPE.sub(r'\1\2', _QUARTO_ATTRS.sub(r'\1', ''.join(md)))
                txt = o.get('data', {}).get('text/plain')
                if txt and md: o['data']['text/plain'] = _NONETYPE.sub(r'\1\2', ''.join(txt))
            if not c['source'].strip() and not c.get('outputs'): continue
        cells.append({k: v for k, v in c.items() if k in _CELL_KEYS[c['cell_type']]})   # nbdev adds e.g. `has_sd`
    nb['cells'] = cells
    return nb


def page_name(nb_path: Path, nb: dict | None = None) -> str:
    "The page name the nbdev site gives a notebook: front matter `output-file`, else the stem without its number prefix."
    nb = nb if nb is not None else json.loads(Path(nb_path).read_text(encoding='utf-8'))
    for c in nb.get('cells', [])[:2]:
        s = ''.join(c.get('source', '')).strip()
        if c['cell_type'] == 'raw' and s.startswith('---'):
            out = (yaml.safe_load(s.strip('-').strip()) or {}).get('output-file')
            if out: return Path(out).stem
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', Path(nb_path).stem.lower())   # nbdev's rule (config.nbpath2html): 00a_x -> x


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


_HEADING = re.compile(r'<h([1-6])\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.S)


def _text(fragment: str) -> str:
    "The text a reader sees in an HTML fragment (tags and the `¶` permalink dropped)."
    return ' '.join(html.unescape(re.sub(r'<[^>]+>', '', fragment)).replace('\u00b6', '').split())


def toc_tokens(page_html: str) -> list[dict]:
    "Table-of-contents tokens (as `mkdocs.structure.toc.get_toc` takes them) for the headings `page_html` really has."
    root: list[dict] = []
    stack: list[dict] = []
    for m in _HEADING.finditer(page_html):
        level, name = int(m.group(1)), _text(m.group(3))
        if not name: continue
        tok = {'level': level, 'id': html.unescape(m.group(2)), 'name': html.escape(name, quote=False), 'children': []}
        while stack and stack[-1]['level'] >= level: stack.pop()
        (stack[-1]['children'] if stack else root).append(tok)
        stack.append(tok)
    return root


def local_links(page_html: str, site_url: str) -> str:
    "Links to pages of the published site (nbdev's symbol links) as links between the pages of this build."
    if not site_url: return page_html
    base = re.escape(site_url.rstrip('/') + '/')
    return re.sub(rf'href="{base}([\w.-]+\.html(?:#[^"]*)?)"', r'href="\1"', page_html)


def on_page_content(html_out, page, config, files, **kwargs):
    "Offline links and badge; the TOC and nav label from the rendered headings (mkdocs-jupyter drops inline code)."
    html_out = local_links(html_out, config.get('site_url') or '')
    html_out = html_out.replace(f'src="{COLAB_BADGE}"', f'src="{BADGE_FILE}"')
    from mkdocs.structure.toc import get_toc
    toks = toc_tokens(html_out)
    page.toc = get_toc(toks)
    h1 = next((t for t in toks if t['level'] == 1), None)
    if h1: page.title = html.unescape(h1['name'])
    return html_out


def on_post_build(config, **kwargs):
    badge = Path(config['site_dir'])/BADGE_FILE
    badge.parent.mkdir(parents=True, exist_ok=True)
    badge.write_text(_BADGE_SVG, encoding='utf-8')
