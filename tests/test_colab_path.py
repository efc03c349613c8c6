"""The Colab path against a simulated Hub (tools/colab_sim.py).

The cheap half runs in CI: the simulated Hub resolves the `colab` preset's models and dataset offline, through the
same `resolve_model` / `load_data` calls the chapters make. The slow half executes every chapter under `colab`
(about 10-20 CPU minutes) and runs only when asked: `LOWRES_FT_COLAB_SIM=1 pytest tests/test_colab_path.py`, or the
documented command `python tools/colab_sim.py`, whose last result (data/colab/sim.json) is checked here and shown on
the Colab page of the docs.
"""
import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import colab_sim as S


@pytest.fixture(scope='module')
def hub(tmp_path_factory):
    return S.build_hub(tmp_path_factory.mktemp('hf'))


def _in_child(code: str, hf_home: Path) -> str:
    "Run `code` in a fresh interpreter offline against the simulated Hub (HF_HUB_OFFLINE is read at import time)."
    env = {**os.environ, 'HF_HOME': str(hf_home), 'HF_HUB_OFFLINE': '1', 'LOWRES_FT_OFFLINE': '1'}
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_simulated_hub_serves_the_colab_preset(hub):
    out = _in_child(
        "from lowres_ft.core import get_preset, resolve_model, load_tokenizer\n"
        "from lowres_ft.data import load_data\n"
        "p = get_preset('colab')\n"
        "print(resolve_model(p.decoder)); print(resolve_model(p.encoder))\n"
        "tok = load_tokenizer(p.decoder); print(type(tok).__name__, tok.pad_token)\n"
        "d = load_data('fancyzhx/ag_news', split='test'); print(len(d), d.column_names, d.features['label'].names)\n", hub)
    lines = out.strip().splitlines()
    assert 'models--HuggingFaceTB--SmolLM2-135M-Instruct' in lines[0] and lines[0].rstrip('/').endswith(S.FAKE_SHA)
    assert 'models--sentence-transformers--all-MiniLM-L6-v2' in lines[1]
    assert lines[-1] == f"1200 ['text', 'label'] {S.NEWS_LABELS}"


def test_an_uncached_hub_name_still_fails_fast_offline(hub):
    out = _in_child(
        "from lowres_ft.core import resolve_model, OfflineError\n"
        "try: resolve_model('HuggingFaceTB/SmolLM2-360M-Instruct')\n"
        "except OfflineError as e: print('refused:', e)\n", hub)
    assert out.startswith('refused:') and 'local folder' in out


def test_the_injected_cells_are_valid_python():
    for ch in S.CHAPTERS: compile(S.injected_source(ch), ch, 'exec')


def test_every_chapter_has_a_parameters_cell_setting_the_preset():
    for ch in S.CHAPTERS:
        nb = json.loads((ROOT/'nbs'/f'{ch}.ipynb').read_text())
        cells = [c for c in nb['cells'] if 'parameters' in c.get('metadata', {}).get('tags', [])]
        assert len(cells) == 1, f'{ch}: {len(cells)} parameters cells'
        assert ''.join(cells[0]['source']).startswith('preset = ')


def test_the_recorded_runs_are_current():
    "data/colab/sim.json (shown on the Colab page) holds one entry per chapter run, in course order, for today's SHRINK."
    path = ROOT/'data'/'colab'/'sim.json'
    if not path.exists(): pytest.skip('no simulated-Hub run recorded yet: python tools/colab_sim.py')
    rec = json.loads(path.read_text())
    chapters = [r['chapter'] for r in rec['runs']]
    assert chapters == [c for c in S.CHAPTERS if c in chapters], f'{chapters}: unknown or out-of-order chapters'
    for r in rec['runs']:
        assert {'ok', 'wall_s', 'error', 'date', 'shrink'} <= set(r), r
        assert r['ok'] == (r['error'] is None), r
        assert r['shrink'] == S.SHRINK.get(r['chapter'], ''), f"SHRINK changed since {r['chapter']} ran: rerun python tools/colab_sim.py {r['chapter']}"


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get('LOWRES_FT_COLAB_SIM'), reason='10-20 CPU minutes: set LOWRES_FT_COLAB_SIM=1')
@pytest.mark.parametrize('chapter', S.CHAPTERS)
def test_chapter_runs_under_colab(hub, chapter, tmp_path):
    r = S.run_chapter(chapter, hub, tmp_path)
    assert r['ok'], f"{chapter}: {r['error']}\n{r.get('cell', '')}"
