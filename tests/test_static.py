"""Colab readiness, checked statically: badge, Colab-only install cell and papermill parameters cell in every chapter;
every chapter's `colab` configuration predicted to fit a free T4; the nbdev docs config in course order."""
import json, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
# course chapters: nbs/[1-9]*.ipynb except the 9x reference pages (90_cli: the command; 95_bench: benchmarks)
CHAPTERS = sorted(p for p in NBS.glob('[1-9]*.ipynb') if not p.name.startswith('9'))
EXPECTED = ['10_continued_pretraining', '20_peft', '30_few_shot', '40_alignment', '50_forgetting', '60_guide']
BADGE = ('[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]'
         '(https://colab.research.google.com/github/lowres-ft/lowres_ft/blob/main/nbs/{name})')

def cells(p): return json.loads(p.read_text())['cells']
def src(c): return ''.join(c.get('source', ''))
ids = lambda p: p.stem


def test_all_course_chapters_exist():
    assert [p.stem for p in CHAPTERS if p.stem in EXPECTED] == [e for e in EXPECTED if (NBS/f'{e}.ipynb').exists()]
    missing = [e for e in EXPECTED if not (NBS/f'{e}.ipynb').exists()]
    assert not missing, f'missing chapter notebooks: {missing}'

@pytest.mark.parametrize('nb', CHAPTERS, ids=ids)
def test_title_subtitle_and_colab_badge(nb):
    md = [src(c) for c in cells(nb) if c['cell_type'] == 'markdown']
    assert md and re.match(r'#\s+\S', md[0]) and re.search(r'^>\s*\S', md[0], re.M), f'{nb.name}: first cell needs "# Title" and "> subtitle"'
    badge = BADGE.format(name=nb.name)
    # nbdev turns the title cell into the page's front matter and drops everything else in it, badge included
    # (tests/test_docs.py checks the built page): the badge sits alone in the next markdown cell.
    assert badge not in md[0], f'{nb.name}: move the Open-in-Colab badge out of the title cell into a cell of its own (the docs drop it)'
    assert len(md) > 1 and md[1].strip() == badge, f'{nb.name}: the second markdown cell must be the Open-in-Colab badge for nbs/{nb.name}, alone'

@pytest.mark.parametrize('nb', CHAPTERS, ids=ids)
def test_colab_only_install_cell(nb):
    code = [src(c) for c in cells(nb) if c['cell_type'] == 'code']
    hits = [i for i, s in enumerate(code) if "'google.colab' in sys.modules" in s and 'pip' in s and 'lowres_ft' in s]
    assert hits, f'{nb.name}: no install cell guarded by `if "google.colab" in sys.modules`'
    assert hits[0] <= 2, f'{nb.name}: the install cell must come first (after #| default_exp)'
    assert re.search(r'^#\|\s*hide', code[hits[0]], re.M), f'{nb.name}: hide the install cell with #| hide'
    # it must not install anywhere else: every pip call in the cell sits under the Colab guard
    body = code[hits[0]]
    assert body.count('pip') == len(re.findall(r"if 'google.colab' in sys.modules:.*pip", body)), f'{nb.name}: unguarded pip call'

@pytest.mark.parametrize('nb', CHAPTERS, ids=ids)
def test_papermill_parameters_cell(nb):
    cs = [c for c in cells(nb) if c['cell_type'] == 'code']
    params = [c for c in cs if 'parameters' in c.get('metadata', {}).get('tags', [])]
    assert len(params) == 1, f'{nb.name}: needs exactly one cell tagged "parameters" (jupytext: # %% tags=["parameters"])'
    s = src(params[0])
    assert re.search(r'^preset\s*=\s*["\']auto["\']', s, re.M), f'{nb.name}: parameters cell must set preset = "auto"'
    assert 'seed' in s, f'{nb.name}: parameters cell must set the seeds (seeds = ... or a grid with seeds)'
    i = cs.index(params[0])
    later = ''.join(src(c) for c in cs[i+1:i+4])
    assert 'use_preset(preset)' in later and 'describe_run' in later, f'{nb.name}: use_preset(preset) and print(describe_run(p)) must follow the parameters'

@pytest.mark.parametrize('nb', CHAPTERS, ids=ids)
def test_papermill_can_parameterize(nb):
    "papermill finds the parameters cell and would inject an override after it."
    pytest.importorskip('papermill')
    from papermill.parameterize import parameterize_notebook
    from papermill.iorw import load_notebook_node
    out = parameterize_notebook(load_notebook_node(str(nb)), {'preset': 'tiny'}, kernel_name='python3', language='python')
    inj = [c for c in out.cells if 'injected-parameters' in c.metadata.get('tags', [])]
    assert inj and "preset = \"tiny\"" in inj[0].source

def test_colab_configurations_fit_a_t4():
    from lowres_ft.guide import colab_check, COLAB_RUNS
    from lowres_ft.core import PRESETS
    p = PRESETS['colab']
    assert p.hub and p.precision in ('auto', 'fp16'), 'colab must train in fp16 on a T4 (no bf16)'
    cc = colab_check()
    chapters = {c.stem for c in CHAPTERS} - {'60_guide'}
    assert chapters <= set(COLAB_RUNS), f'no colab configuration in guide.COLAB_RUNS for {sorted(chapters - set(COLAB_RUNS))}'
    too_big = cc[cc.total_gib > 16 / 1.073741824]   # 16 GB = 14.9 GiB
    assert too_big.empty, f'predicted not to fit a 16 GB T4:\n{too_big}'
    assert cc.fits.all()

def test_nbdev_docs_config_in_course_order():
    yaml = pytest.importorskip('yaml')
    q = yaml.safe_load((NBS/'_quarto.yml').read_text())
    assert q['project']['type'] == 'website' and 'sidebar.yml' in q['metadata-files'] and 'nbdev.yml' in q['metadata-files']
    side = yaml.safe_load((NBS/'sidebar.yml').read_text())['website']['sidebar']['contents']
    stems = [Path(s).stem for s in side]
    assert stems[0] == 'index' and stems == sorted(stems, key=lambda s: (s != 'index', s)), stems
    for s in side: assert (NBS/s).exists(), f'sidebar.yml lists {s}, which is not in nbs/'
    nb_files = sorted(p.name for p in NBS.glob('*.ipynb'))
    assert sorted(side) == nb_files, 'sidebar.yml must list every notebook (nbdev-docs regenerates it from nbs/)'

FINDINGS = [c for c in CHAPTERS if c.stem != '60_guide']   # the guide recommends; the chapters measure

@pytest.mark.parametrize('nb', FINDINGS, ids=ids)
def test_findings_are_computed_from_a_claims_record(nb):
    """A chapter's findings are printed by code from its claims record (declared before any training, measured,
    saved), never written by hand: its "What we found" section holds no hand-written numbers."""
    cs = cells(nb)
    heads = [i for i, c in enumerate(cs) if c['cell_type'] == 'markdown' and re.search(r'^##\s+What we found', src(c), re.M)]
    assert heads, f'{nb.name}: needs a "## What we found" section'
    section = cs[heads[0]:]
    summary = [c for c in section if c['cell_type'] == 'code' and '.summary()' in src(c) and '.save(' in src(c)]
    assert summary, f'{nb.name}: the findings must be printed by the claims record (rec.summary()) and saved (rec.save())'
    text = ''.join(o.get('text', '') if isinstance(o.get('text', ''), str) else ''.join(o['text']) for o in summary[0].get('outputs', []))
    assert '**' in text and any(v in text for v in ('agrees', 'disagrees', "can't tell")), f'{nb.name}: execute the page; its findings are its output'
    for c in section:
        if c['cell_type'] == 'markdown':
            assert not re.search(r'\d[.,]\d|\d\s*%', src(c)), f'{nb.name}: hand-written numbers in "What we found": print them from the record'
    declared = [i for i, c in enumerate(cs) if c['cell_type'] == 'code' and '.declare(' in src(c)]
    trains = [i for i, c in enumerate(cs) if c['cell_type'] == 'code' and not src(c).startswith('#| export')
              and re.search(r'\b(fit|multi_seed|continued_pretraining|cost_table|setfit_fit)\(', src(c))]
    assert declared and trains and declared[0] < trains[0], f'{nb.name}: declare the claims (rec.declare) before the first experiment runs'

def test_one_repository_url_everywhere():
    "The install cell, the Colab badges and the docs configs all name the repository pyproject.toml declares."
    import tomllib
    yaml = pytest.importorskip('yaml')
    repo = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['urls']['Repository']
    owner_name = repo.removeprefix('https://github.com/')
    assert yaml.safe_load((NBS/'nbdev.yml').read_text())['website']['repo-url'] == repo
    assert yaml.safe_load((ROOT/'mkdocs.yml').read_text().split('hooks:')[0])['repo_url'] == repo
    for nb in CHAPTERS:
        body = next(src(c) for c in cells(nb) if c['cell_type'] == 'code' and "'google.colab' in sys.modules" in src(c))
        assert f"'lowres_ft @ git+{repo}'" in body, f'{nb.name}: the Colab cell must install from {repo} (lowres_ft is not on PyPI)'
        assert "version('lowres_ft')" in body, f'{nb.name}: the Colab cell prints the installed version'
        md = ''.join(src(c) for c in cells(nb) if c['cell_type'] == 'markdown')
        assert f'colab.research.google.com/github/{owner_name}/blob/main/nbs/{nb.name}' in md, f'{nb.name}: badge must point at {owner_name}'
