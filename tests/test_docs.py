"""Offline docs site: MkDocs Material + mkdocs-jupyter over the nbdev-processed notebooks, checked as a reader meets it:
the built HTML (links, anchors, badges, signatures) and every page in a real browser (title, badge, plots loaded and
legible, no traceback, raw markdown or progress-bar debris, code that fits the column, tables that show their columns).
`python tests/test_docs.py SITE_DIR` prints the same layout measurements for a site built with `mkdocs build -d SITE_DIR`."""
import ast, functools, html as html_lib, http.server, json, os, re, shutil, socketserver, subprocess, sys, tempfile, threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlsplit
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
COURSE = [Path(l.split('- ', 1)[1].strip()).stem for l in (NBS/'sidebar.yml').read_text().splitlines()
          if l.strip().startswith('- ') and l.strip().endswith('.ipynb')]   # the course order: nbs/sidebar.yml, the one list
IMG = re.compile(r'<img[^>]+src="data:image/png;base64,')
sys.path.insert(0, str(ROOT))
from mkdocs_hooks import page_name, BADGE_FILE   # pages keep Quarto's names: 00_core.ipynb -> core.html
# course chapters with a Colab badge: nbs/[1-8]*.ipynb (10_continued_pretraining ... 60_guide); 9x are reference pages
CHAPTERS = sorted(p for p in NBS.glob('[1-8]*.ipynb'))

def page(site, nb_or_stem):
    nb = nb_or_stem if isinstance(nb_or_stem, Path) else NBS/f'{nb_or_stem}.ipynb'
    return site/f'{page_name(nb)}.html'


def notebooks(): return sorted(NBS.glob('*.ipynb'))

def _visible_images(nb_path):
    "Number of image/png outputs in cells the docs show (nbdev drops `#| hide` / `#| include: false` cells)."
    nb = json.loads(nb_path.read_text())
    n = 0
    for c in nb['cells']:
        src = ''.join(c.get('source', ''))
        if c['cell_type'] != 'code' or re.search(r'^#\|\s*(hide|include:\s*false|output:\s*false)', src, re.M): continue
        n += sum('image/png' in o.get('data', {}) for o in c.get('outputs', []))
    return n

def _title(nb_path):
    "The notebook's H1 title, as the page title shows it (markdown code marks dropped)."
    nb = json.loads(nb_path.read_text())
    for c in nb['cells']:
        if c['cell_type'] == 'markdown':
            m = re.search(r'^#\s+(.+)$', ''.join(c['source']), re.M)
            if m: return m.group(1).replace('`', '').strip()


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "Build the offline site once (nbdev processing + mkdocs build) into a temporary folder."
    pytest.importorskip('mkdocs', reason='needs the docs extra: pip install -e ".[docs]"')
    pytest.importorskip('mkdocs_jupyter', reason='needs the docs extra: pip install -e ".[docs]"')
    pytest.importorskip('material', reason='needs the docs extra: pip install -e ".[docs]"')
    out = tmp_path_factory.mktemp('site')
    r = subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '-f', str(ROOT/'mkdocs.yml'), '-d', str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=900, env={**os.environ, 'MPLBACKEND': 'Agg'})
    if r.returncode:
        why = re.findall(r'Exception: (Error in notebook: .*? in cell \d+ :\n(?:.*\n){1,4})', r.stderr)
        hint = ('nbdev executes every exported cell, every show_doc and every cell containing an import while it builds the '
                'docs (keep imports in cells of their own); one of them failed. Every name an exported signature uses must '
                'be imported in an exported cell.\n' + ''.join(why[:1])) if why else r.stderr[-6000:]
        pytest.fail(f'mkdocs build failed (nbdev-docs would fail the same way):\n{hint}')
    return out


def test_every_notebook_has_a_page_with_its_title(site):
    for nb in notebooks():
        pg = page(site, nb)
        assert pg.exists(), f'no page {pg.name} for {nb.name}'
        text = ' '.join(html_lib.unescape(re.sub(r'<[^>]+>', '', pg.read_text())).split())
        t = _title(nb)
        if nb.stem != 'index' and t: assert t in text, f'{pg.name} does not show its title {t!r}'


def test_course_chapters_are_all_on_the_site(site):
    missing = [c for c in COURSE if not (NBS/f'{c}.ipynb').exists() or not page(site, c).exists()]
    assert not missing, f'course chapters without a page: {missing} (is nbs/<chapter>.ipynb there?)'


def test_pages_show_their_executed_plots(site):
    for nb in notebooks():
        want = _visible_images(nb)
        got = len(IMG.findall(page(site, nb).read_text()))
        assert got >= want, f'{page(site, nb).name} shows {got} of the {want} plots in {nb.name}'
    for c in [c for c in COURSE if re.match(r'[1-6]0_', c)]:   # chapters 10..60 have executed plots (>= 2 each)
        nb = NBS/f'{c}.ipynb'
        if nb.exists(): assert _visible_images(nb) >= 1, f'{nb.name} has no executed plot: run it with outputs'


def test_chapter_pages_say_which_preset_and_device(site):
    for nb in notebooks():
        # the claims page shows each record's own preset; the CLI and registry pages run no model of their own
        if not re.match(r'\d', nb.stem) or nb.stem in ('90_cli', '97_claims', '00a_registry'): continue
        html = page(site, nb).read_text()
        assert 'preset=' in html and 'device=' in html, f'{page(site, nb).name} ({nb.name}) does not print describe_run() output'


def test_api_reference_is_rendered(site):
    html = page(site, '60_guide').read_text()
    assert 'recommend' in html and 'estimate' in html
    assert '#| export' not in html and '#| hide' not in html, 'nbdev directives leaked into the page'


def _all_pages(site): return sorted(p for p in site.glob('*.html') if p.name != '404.html')

def _ids(html): return {html_lib.unescape(i) for i in re.findall(r'\sid="([^"]+)"', html)}


def test_chapter_pages_show_their_colab_badge(site):
    "The badge is on the built page (nbdev turns the title cell into front matter: a badge inside it is dropped)."
    import tomllib
    repo = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['urls']['Repository'].removeprefix('https://github.com/')
    assert (site/BADGE_FILE).is_file(), f'{BADGE_FILE} is not in the site (mkdocs_hooks.on_post_build writes it)'
    missing = []
    for nb in CHAPTERS:
        html = page(site, nb).read_text()
        href = f'https://colab.research.google.com/github/{repo}/blob/main/nbs/{nb.name}'
        if not re.search(rf'<a href="{re.escape(href)}"[^>]*>\s*<img[^>]+src="{re.escape(BADGE_FILE)}"', html):
            missing.append(f'{page(site, nb).name} ({nb.name})')
    assert not missing, f'no Open-in-Colab badge on {missing}: put the badge in its own markdown cell after the title'


def test_chapter_pages_show_their_parameters_cell(site):
    "A reader (and papermill, and tools/colab_sim.py) changes a chapter through its parameters cell: the page must show it."
    missing = []
    for nb in CHAPTERS:
        cells = [c for c in json.loads(nb.read_text())['cells'] if 'parameters' in c.get('metadata', {}).get('tags', [])]
        first = ''.join(cells[0]['source']).splitlines()[0] if cells else None
        text = html_lib.unescape(re.sub(r'<[^>]+>', '', page(site, nb).read_text()))
        if first is None or first not in text: missing.append(f'{nb.name} ({first!r})')
    assert not missing, f'no visible parameters cell (tagged `parameters`, starting with `preset = `) on {missing}'


def link_report(site):
    "Every link on every page: broken in-page anchors, broken links between pages, links that leave the offline build."
    site_url = 'https://lowres-ft.github.io/lowres_ft/'
    pages = {p.name: p.read_text() for p in _all_pages(site)}
    ids = {name: _ids(h) for name, h in pages.items()}
    broken_anchor, broken_link, published = [], [], []
    for name, h in pages.items():
        for href in set(re.findall(r'<a\s[^>]*?href="([^"]*)"', h)):
            href = html_lib.unescape(href)
            if href.startswith(site_url): published.append(f'{name}: {href}'); continue
            u = urlsplit(href)
            if u.scheme or href.startswith('//') or href.startswith('mailto:'): continue
            if not u.path:
                if u.fragment and unquote(u.fragment) not in ids[name]: broken_anchor.append(f'{name}: #{u.fragment}')
                continue
            target = (site/name).parent/unquote(u.path)
            if not target.exists(): broken_link.append(f'{name}: {href}'); continue
            if u.fragment and target.suffix == '.html' and unquote(u.fragment) not in ids.get(target.name, _ids(target.read_text())):
                broken_link.append(f'{name}: {href}')
    nonetype = {name: h.count('NoneType') for name, h in pages.items() if 'NoneType' in h}
    return dict(broken_anchors=sorted(broken_anchor), broken_links=sorted(broken_link), published=sorted(published),
                nonetype=nonetype)


def test_links_and_anchors_resolve_in_the_offline_site(site):
    r = link_report(site)
    assert not r['broken_anchors'], f"table-of-contents / in-page anchors with no target: {r['broken_anchors'][:20]}"
    assert not r['broken_links'], f"links to pages or anchors that are not in the site: {r['broken_links'][:20]}"
    assert not r['published'], (f"{len(r['published'])} links leave the offline build for the published site, e.g. "
                                f"{r['published'][:5]} (mkdocs_hooks.local_links rewrites them)")


def test_signatures_show_no_nonetype(site):
    "An unannotated parameter with default None renders as `x=None`, not `x:NoneType=None`."
    assert not link_report(site)['nonetype'], link_report(site)['nonetype']


def test_nav_labels_are_the_page_titles(site):
    "Every nav entry reads as its page's H1, code included (`The lowres-ft command`, not `The command`)."
    index = (site/'index.html').read_text()
    labels = {href: ' '.join(html_lib.unescape(re.sub(r'<[^>]+>', '', lab)).split())
              for href, lab in re.findall(r'<a href="([\w.-]+\.html)" class="md-nav__link[^"]*">(.*?)</a>', index, re.S)}
    for pg in _all_pages(site):
        if pg.name == 'index.html': continue
        h1 = re.search(r'<h1[^>]*>(.*?)</h1>', pg.read_text(), re.S)
        assert h1, f'{pg.name}: no <h1>'
        want = ' '.join(html_lib.unescape(re.sub(r'<[^>]+>', '', h1.group(1))).replace('\u00b6', '').split())
        assert labels.get(pg.name) == want, f'nav label of {pg.name} is {labels.get(pg.name)!r}, its title is {want!r}'


def _evaluated_cells(nb_path):
    "The cells nbdev executes while it builds the docs (nbdev.processors._do_eval), with their indices."
    import warnings
    from nbdev.process import NBProcessor
    from nbdev.processors import _do_eval
    out = []
    def visit(cell):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            if cell.cell_type == 'code' and _do_eval(cell): out.append(cell)
    NBProcessor(nb_path, procs=[visit]).process()
    return out

def _harmless(stmt) -> bool:
    "A top-level statement that cannot train or print progress: an import, a definition, a Colab-only branch, ..."
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): return True
    if isinstance(stmt, ast.If) and 'google.colab' in ast.unparse(stmt.test): return True   # never true in a docs build
    if isinstance(stmt, ast.Try): return all(map(_harmless, stmt.body + [s for h in stmt.handlers for s in h.body]))
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        call = ast.unparse(stmt.value.func)
        return call in ('show_doc', 'print') and not re.search(r'\b(fit|quickstart|main|train|run)\w*\(', ast.unparse(stmt)) \
               or call.endswith('disable_progress_bars')
    return False

@pytest.mark.parametrize('nb', notebooks(), ids=lambda p: p.stem)
def test_docs_build_runs_no_experiments(nb):
    """nbdev executes every exported cell, every `show_doc` and every cell containing an import while it builds the
    docs: such a cell must hold nothing else (no training, no progress bars in the build)."""
    pytest.importorskip('nbdev')
    for cell in _evaluated_cells(nb):
        if cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}: continue
        bad = [ast.unparse(t)[:120] for t in cell.parsed_() if not _harmless(t)]
        assert not bad, (f'{nb.name} cell {cell.idx_}: the docs build runs this cell because it imports something, and '
                         f'it also runs {bad}: move the imports to a cell of their own (nbdev FAQ)')


# ---- a real browser ----

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
WIDTH = 1280   # a laptop screen: the site must read well there

# Injected into every page the test server sends: once the page (and its images) loaded, it measures what a reader
# sees and leaves the result in the DOM as <script id="reader-report">, which `chromium --dump-dom` returns.
READER_JS = r"""
(function () {
  function textOutside(el, skip) {
    let out = '';
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {acceptNode: n =>
      n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    while (walk.nextNode()) out += walk.currentNode.nodeValue;
    return out;
  }
  function pngDpi(src) {   // matplotlib writes its dpi into the PNG's pHYs chunk
    try {
      const k = src.indexOf(','), b = atob(src.slice(k + 1, k + 401)), i = b.indexOf('pHYs');
      if (i < 0) return null;
      return (((b.charCodeAt(i + 4) << 24) | (b.charCodeAt(i + 5) << 16) | (b.charCodeAt(i + 6) << 8) | b.charCodeAt(i + 7)) >>> 0) * 0.0254;
    } catch (e) { return null; }
  }
  function scrolls(el, stop) {
    for (let p = el.parentElement; p && p !== stop; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  }
  function report() {
    const r = {};
    const col = document.querySelector('.md-content__inner') || document.body;
    const cs = getComputedStyle(col), cr = col.getBoundingClientRect();
    const colRight = cr.right - parseFloat(cs.paddingRight);
    r.column_px = Math.round(colRight - cr.left - parseFloat(cs.paddingLeft));
    r.title = document.title;
    const h1 = col.querySelector('h1');
    r.h1 = h1 ? h1.textContent.replace('\u00b6', '').trim() : null;
    const ctx = document.createElement('canvas').getContext('2d');
    let lines = 0, wide = 0, wrapped = 0; const examples = [];
    for (const pre of col.querySelectorAll('pre')) {   // code inputs, text outputs, code blocks in prose
      if (!pre.offsetParent) continue;
      const ps = getComputedStyle(pre), pr = pre.getBoundingClientRect();
      ctx.font = `${ps.fontStyle} ${ps.fontWeight} ${ps.fontSize} ${ps.fontFamily}`;
      const avail = colRight - (pr.left + parseFloat(ps.paddingLeft) + parseFloat(ps.borderLeftWidth));
      const wraps = !ps.whiteSpace.startsWith('pre') || ps.whiteSpace === 'pre-wrap' || ps.whiteSpace === 'pre-line';
      for (const line of pre.textContent.replace(/\n$/, '').split('\n')) {
        if (!line.trim()) continue;
        lines++;
        if (ctx.measureText(line).width > avail + 1) { wide++; if (wraps) wrapped++; if (examples.length < 3) examples.push(line.slice(0, 90)); }
      }
    }
    Object.assign(r, {code_lines: lines, wide_lines: wide, wrapped_lines: wrapped, wide_examples: examples});
    r.tables = [];
    for (const t of col.querySelectorAll('table')) {
      if (!t.offsetParent) continue;
      const th = [...t.querySelectorAll('thead th, tr:first-child th')];
      r.tables.push({heads: th.map(h => h.textContent.trim()),
                     past: th.filter(h => h.getBoundingClientRect().right > colRight + 1).map(h => h.textContent.trim()),
                     scrolls: scrolls(t, col)});
    }
    r.images = [...col.querySelectorAll('img')].map(img => {
      const plot = img.src.startsWith('data:image/png'), dpi = plot ? pngDpi(img.src) : null;
      const scale = img.naturalWidth ? img.clientWidth / img.naturalWidth : 0;
      return {plot, src: plot ? 'data:image/png' : img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0,
              shown_w: img.clientWidth, shown_h: img.clientHeight, natural_w: img.naturalWidth,
              text10_px: dpi ? +(10 * dpi / 72 * scale).toFixed(1) : null};   // how tall 10 pt figure text is on screen
    });
    r.broken_anchors = [...new Set([...document.querySelectorAll('a[href^="#"]')]
      .map(a => decodeURIComponent(a.getAttribute('href').slice(1))).filter(id => id && !document.getElementById(id)))];
    r.badges = [...col.querySelectorAll('a[href^="https://colab.research.google.com/github/"] img')]
      .map(img => img.complete && img.naturalWidth > 0 && img.clientWidth > 0);
    const outs = [...col.querySelectorAll('.jp-OutputArea-output')].map(e => e.textContent).join('\n');
    const tb = outs.match(/Traceback \(most recent call last\)[^\n]*|^\w+(Error|Exception): [^\n]*/m);
    r.traceback = tb ? tb[0] : null;
    const md = [...col.querySelectorAll('.jp-RenderedMarkdown')].map(e => textOutside(e, 'code, pre')).join('\n');
    const raw = md.match(/\]\(|```|\*\*[^*\s][^*\n]{0,80}\*\*|(^|\n)#{1,6} \S|\{target=|<\/?(div|span|img|a|p)\b/);
    r.raw_markdown = raw ? md.slice(Math.max(0, raw.index - 30), raw.index + 50) : null;
    const bar = outs.match(/\d+%\|[^\n]{0,40}|[\u2588\u2589\u258a\u258b\u258c\u258d\u258e\u258f]{2,}|\d+(\.\d+)?(it\/s|s\/it)\]|\r/);
    r.progress = bar ? bar[0] : null;
    const el = document.createElement('script'); el.type = 'application/json'; el.id = 'reader-report';
    el.textContent = JSON.stringify(r);
    document.body.appendChild(el);
  }
  window.addEventListener('load', () => setTimeout(report, 100));
})();
"""

def _serve(site):
    "An HTTP server for `site` that adds READER_JS to every page; returns (server, base URL)."
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            f = site/unquote(urlsplit(self.path).path).lstrip('/')
            if f.suffix != '.html' or not f.is_file(): return super().do_GET()
            body = f.read_text(encoding='utf-8').replace('</body>', f'<script>{READER_JS}</script></body>').encode()
            self.send_response(200)
            self.send_header('Content-Type', 'text/html; charset=utf-8'); self.send_header('Content-Length', str(len(body)))
            self.end_headers(); self.wfile.write(body)
    httpd = socketserver.ThreadingTCPServer(('127.0.0.1', 0), functools.partial(Handler, directory=str(site)))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f'http://127.0.0.1:{httpd.server_address[1]}'

def _chromium(url, profile, *args, height=2000, width=WIDTH):
    cmd = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
           f'--user-data-dir={profile}', f'--window-size={width},{height}', '--virtual-time-budget=8000', *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

def reader_reports(site, width=WIDTH, workers=2):
    "What a reader sees on every page of `site` at `width` px, measured by READER_JS in headless Chromium."
    httpd, base = _serve(Path(site))
    def one(pg):
        with tempfile.TemporaryDirectory() as prof:
            r = _chromium(f'{base}/{pg.name}', prof, '--dump-dom', width=width)
        m = re.search(r'<script type="application/json" id="reader-report">(.*?)</script>', r.stdout, re.S)
        return pg.name, (json.loads(html_lib.unescape(m.group(1))) if m else {'error': (r.stderr or r.stdout)[-1500:]})
    try:
        with ThreadPoolExecutor(workers) as ex: return dict(ex.map(one, _all_pages(Path(site))))
    finally: httpd.shutdown(); httpd.server_close()

def layout_summary(reports, links=None):
    "The figures the docs are judged by: share of code lines wider than the column, and what links/anchors break."
    lines = sum(r.get('code_lines', 0) for r in reports.values()); wide = sum(r.get('wide_lines', 0) for r in reports.values())
    plots = [i['text10_px'] for r in reports.values() for i in r.get('images', []) if i['plot'] and i['text10_px']]
    out = dict(column_px=next(iter(reports.values())).get('column_px'), code_lines=lines, wide_lines=wide,
               wide_share=round(wide / max(lines, 1), 3), wrapped_lines=sum(r.get('wrapped_lines', 0) for r in reports.values()),
               broken_anchors_in_browser=sum(len(r.get('broken_anchors', [])) for r in reports.values()),
               smallest_plot_text_px=min(plots, default=None),
               badges_loaded=sum(sum(r.get('badges', [])) for r in reports.values()))
    if links: out.update({k: (len(v) if isinstance(v, list) else sum(v.values())) for k, v in links.items()})
    return out

MAX_WIDE_SHARE = 0.15      # code lines wider than the column at WIDTH (they scroll; most lines must not need to)
MIN_PLOT_TEXT_PX = 9       # 10 pt figure text must stay at least this tall on screen

@pytest.fixture(scope='module')
def reports(site):
    if CHROMIUM is None: pytest.skip('headless Chromium is not installed (Debian: apt-get install -y chromium)')
    reps = reader_reports(site)
    print('\ndocs layout at', WIDTH, 'px:', json.dumps(layout_summary(reps, link_report(site))))
    return reps

PAGES = [page_name(nb) + '.html' for nb in notebooks()]

@pytest.mark.parametrize('pg', PAGES)
def test_browser_page_reads_well(reports, site, pg):
    r = reports[pg]
    assert 'error' not in r, f'{pg}: the page did not finish loading in Chromium: {r.get("error")}'
    nb = next(nb for nb in notebooks() if page_name(nb) + '.html' == pg)
    want = _title(nb)
    assert r['h1'], f'{pg}: no title (<h1>) rendered'
    if nb.stem != 'index' and want: assert r['h1'] == want and want in r['title'], f"{pg}: title {r['h1']!r} / {r['title']!r}, want {want!r}"
    if nb in CHAPTERS: assert r['badges'] and all(r['badges']), f'{pg}: the Open-in-Colab badge is missing or its image did not load'
    bad = [i['src'] for i in r['images'] if not (i['loaded'] and i['shown_w'] > 0 and i['shown_h'] > 0)]
    assert not bad, f'{pg}: images that did not load or have no size: {bad}'
    assert sum(i['plot'] for i in r['images']) >= _visible_images(nb), f'{pg}: fewer plots than {nb.name} has outputs'
    small = [i['text10_px'] for i in r['images'] if i['plot'] and i['text10_px'] and i['text10_px'] < MIN_PLOT_TEXT_PX]
    assert not small, (f'{pg}: plots scaled down so far that 10 pt text is {small} px tall on a {WIDTH} px screen: '
                       f'give the figure a smaller figsize (the column is {r["column_px"]} px)')
    assert r['traceback'] is None, f'{pg}: an output shows an error: {r["traceback"]!r}'
    assert r['raw_markdown'] is None, f'{pg}: markdown left unrendered: {r["raw_markdown"]!r}'
    assert r['progress'] is None, f'{pg}: progress-bar debris in an output: {r["progress"]!r} (disable the bars on the page)'
    assert not r['broken_anchors'], f'{pg}: links to anchors that are not on the page: {r["broken_anchors"]}'
    assert r['wrapped_lines'] == 0, f'{pg}: {r["wrapped_lines"]} code/output lines wrap mid-line instead of scrolling'
    clipped = [t['past'] for t in r['tables'] if t['past'] and not t['scrolls']]
    assert not clipped, f'{pg}: table columns past the column edge with nothing to scroll: {clipped}'

def test_browser_code_fits_the_column(reports):
    s = layout_summary(reports)
    assert s['wide_share'] <= MAX_WIDE_SHARE, (f"{s['wide_lines']} of {s['code_lines']} visible code lines ({s['wide_share']:.0%}) are "
                                               f"wider than the {s['column_px']} px content column at {WIDTH} px")

def test_browser_guide_t4_table_shows_its_verdict(reports):
    "The guide's free-T4 table shows the columns it is read for (predicted memory and whether it fits) without scrolling."
    tabs = [t for t in reports['guide.html']['tables'] if 'total_gib' in t['heads'] and 'fits' in t['heads']]
    assert tabs, 'the guide shows no table with total_gib and fits columns (colab_check())'
    assert not ({'total_gib', 'fits'} & set(tabs[0]['past'])), f"columns past the edge of the column: {tabs[0]['past']}"

SHOTS = Path(os.environ.get('LOWRES_FT_SCREENSHOTS', ROOT/'site'/'screenshots'))

@pytest.mark.skipif(CHROMIUM is None, reason='headless Chromium is not installed (Debian: apt-get install -y chromium)')
@pytest.mark.parametrize('nb', ['index', '60_guide'])
def test_browser_screenshots(site, tmp_path, nb):
    "Screenshots of the home page and the guide (the top of the page, and the whole page) for a person to look at."
    pg = page_name(NBS/f'{nb}.ipynb') + '.html'
    httpd, base = _serve(site)
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for name, height in [(pg.replace('.html', '.png'), 2000), (pg.replace('.html', '_full.png'), 16000)]:
            shot = _chromium(f'{base}/{pg}', tmp_path/name, f'--screenshot={SHOTS/name}', height=height)
            assert shot.returncode == 0 and (SHOTS/name).stat().st_size > 10_000, shot.stderr[-2000:]
    finally: httpd.shutdown(); httpd.server_close()


if __name__ == '__main__':   # python tests/test_docs.py SITE_DIR [WIDTH]: the layout figures for a built site
    site_dir = Path(sys.argv[1]); w = int(sys.argv[2]) if len(sys.argv) > 2 else WIDTH
    reps = reader_reports(site_dir, width=w)
    for name, r in reps.items():
        print(f"{name:28s} wide {r.get('wide_lines')}/{r.get('code_lines')}  anchors {r.get('broken_anchors')}  "
              f"badges {r.get('badges')}  plot text px {[i['text10_px'] for i in r.get('images', []) if i['plot']]}")
    print(json.dumps(layout_summary(reps, link_report(site_dir)), indent=1))
