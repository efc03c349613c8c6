"Offline docs site: MkDocs Material + mkdocs-jupyter over the nbdev-processed notebooks; checked in a real browser."
import functools, html as html_lib, http.server, json, os, re, shutil, socketserver, subprocess, sys, threading
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
COURSE = ['index', '00_core', '01_data', '02_base', '03_train', '04_evaluate', '05_real_model', '10_continued_pretraining', '20_peft',
          '30_few_shot', '40_alignment', '50_forgetting', '60_guide', '90_cli', '95_bench', '97_claims']   # the course order (nbs/sidebar.yml)
IMG = re.compile(r'<img[^>]+src="data:image/png;base64,')
sys.path.insert(0, str(ROOT))
from mkdocs_hooks import page_name   # pages keep Quarto's names: 00_core.ipynb -> core.html

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
        hint = ('nbdev runs every cell that imports something while it builds the docs: keep imports in their own cell '
                '(nbdev FAQ "cells containing imports and other code")\n' + ''.join(why[:1])) if why else r.stderr[-6000:]
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
        if not re.match(r'\d', nb.stem) or nb.stem in ('90_cli', '97_claims'): continue   # the claims page shows each record's own preset
        html = page(site, nb).read_text()
        assert 'preset=' in html and 'device=' in html, f'{page(site, nb).name} ({nb.name}) does not print describe_run() output'


def test_api_reference_is_rendered(site):
    html = page(site, '60_guide').read_text()
    assert 'recommend' in html and 'estimate' in html
    assert '#| export' not in html and '#| hide' not in html, 'nbdev directives leaked into the page'


# ---- a real browser ----

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')

@pytest.fixture(scope='module')
def server(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    class Quiet(handler.func):
        def log_message(self, *a): pass
    httpd = socketserver.TCPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown(); httpd.server_close()

def _chromium(url, tmp, *args, height=2000):
    cmd = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           f'--user-data-dir={tmp}', f'--window-size=1280,{height}', '--virtual-time-budget=5000', *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

SHOTS = Path(os.environ.get('LOWRES_FT_SCREENSHOTS', ROOT/'site'/'screenshots'))

@pytest.mark.skipif(CHROMIUM is None, reason='headless Chromium is not installed (Debian: apt-get install -y chromium)')
@pytest.mark.parametrize('nb,title,min_images', [('index', 'lowres_ft', 0), ('60_guide', 'The practical guide', 2)])
def test_browser_renders_page(site, server, tmp_path, nb, title, min_images):
    page = page_name(NBS/f'{nb}.ipynb') + '.html'
    assert (site/page).exists()
    dom = _chromium(f'{server}/{page}', tmp_path/'profile-dom', '--dump-dom')
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    m = re.search(r'<title>(.*?)</title>', html, re.S)
    assert m and title in m.group(1), f'{page}: title {m and m.group(1)!r}'
    assert re.search(r'<h1[^>]*>', html), f'{page}: no <h1> rendered'
    assert len(IMG.findall(html)) >= min_images, f'{page}: {len(IMG.findall(html))} images rendered'
    SHOTS.mkdir(parents=True, exist_ok=True)
    png = SHOTS/page.replace('.html', '.png')
    shot = _chromium(f'{server}/{page}', tmp_path/'profile-shot', f'--screenshot={png}')
    assert shot.returncode == 0 and png.exists() and png.stat().st_size > 10_000, shot.stderr[-2000:]
    if min_images:   # a whole-page shot too, so the plots further down are in a picture
        full = SHOTS/page.replace('.html', '_full.png')
        shot = _chromium(f'{server}/{page}', tmp_path/'profile-full', f'--screenshot={full}', height=16000)
        assert shot.returncode == 0 and full.exists(), shot.stderr[-2000:]
