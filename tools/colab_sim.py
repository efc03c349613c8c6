"""Run the chapters the way Colab runs them, on this machine: the `colab` preset against a simulated Hub.

No machine here reaches the Hugging Face Hub, so this lays out a Hub cache (``HF_HOME``) in which
``HuggingFaceTB/SmolLM2-135M-Instruct`` (the real weights, from the embedded copy, with the Hub's own chat template)
and ``sentence-transformers/all-MiniLM-L6-v2`` (the real encoder) resolve as Hub ids, plus a stand-in for
``fancyzhx/ag_news`` with the real dataset's splits, columns and label names (generated rows: only the layout is
real). With ``HF_HUB_OFFLINE=1`` each chapter is executed top to bottom under ``preset='colab'``, its sizes shrunk
through a cell injected after its ``parameters`` cell (what papermill does), so that it finishes on a CPU.

    python tools/colab_sim.py                 # every chapter; writes data/colab/sim.json
    python tools/colab_sim.py 30_few_shot     # one chapter

The shrunk sizes test that every cell of the colab path runs (models, data, precision, code paths); they are not the
colab grids, whose time and memory on a T4 the guide's estimator predicts on each page.
"""
from __future__ import annotations
import argparse, datetime, json, os, platform, random, re, shutil, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the chapters, in course order, from the sidebar (the one list a new chapter joins): nbs/[1-8]x_*.ipynb
CHAPTERS = [Path(l.split('- ', 1)[1].strip()).stem for l in (ROOT/'nbs'/'sidebar.yml').read_text().splitlines()
            if re.match(r'-\s+[1-8]\d_\w+\.ipynb$', l.strip())]
DECODER, ENCODER, NEWS = 'HuggingFaceTB/SmolLM2-135M-Instruct', 'sentence-transformers/all-MiniLM-L6-v2', 'fancyzhx/ag_news'
NEWS_LABELS = ['World', 'Sports', 'Business', 'Sci/Tech']   # ag_news's ClassLabel names, in its order
FAKE_SHA = '5eed' * 10   # the snapshot "commit" of the simulated repositories

# The colab preset with its sizes shrunk for a CPU; each chapter's own grid is shrunk by the cell below.
PRESET = "get_preset('colab', max_steps=4, batch_size=4, max_length=128, n_train=64, n_eval=32, seeds=(0, 1))"
SHRINK = {
    '10_continued_pretraining': ("seeds = (0, 1); replay_ratios = (0.0, 0.25); label_sizes = (8,)\n"
                                 "grid_colab = dict(grid_colab, cpt_steps=4, block=64, head_steps=2, mlm_steps=4, n_test=64, n_lm_test=8,\n"
                                 "                  kelo_seeds=1, new_tokens=48, budgets=(512, 1024))"),
    '20_peft': ("seeds = (0, 1)\n"
                "FULL_GRID = dict(FULL_GRID, enc_sizes=[16, 32], enc_methods=['full', 'bitfit', 'lora', 'prompt_tuning', 'ia3'], enc_epochs=1,\n"
                "                 enc_min_steps=2, lr_mults=(1, 3), tune_n=16, ranks=[4, 16], n_sweep=16, dec_sizes=[16],\n"
                "                 dec_methods=['full', 'lora', 'qlora', 'prompt_tuning'], dec_epochs=1, dec_n_test=8, cost_steps=2, n_test=16)\n"
                "COLAB_GRID = dict(FULL_GRID)"),
    '30_few_shot': ("full_grid = dict(ks=(4, 8), seeds=(0, 1), n_test=24, head_steps=2, head_lr=5e-5, pet_steps=2, pet_lr=None,\n"
                    "                 setfit_steps=2, setfit_lr=5e-5, setfit_batch=8, n_demos=2)\n"
                    "cheap_ks, cheap_seeds = (4, 8), (0, 1)\n"
                    "sft_full = dict(n_curated=6, n_random=12, epochs=1, n_eval=12, seeds=(0,))"),
    '40_alignment': ("seeds = (0, 1)\n"
                     "grid_full = dict(grid_full, sft_steps=4, sizes=(8, 16), flips=(0.0, 0.3), epochs=2, epoch_pairs=8, nll_pairs=16, steps=2,\n"
                     "                 n_eval=8, n_pool=32, n_samples=2, kl_texts=8, demo_steps=4)\n"
                     "grid_colab = dict(grid_full)"),
    '50_forgetting': ("every = 2; n_probe = 8; n_target = 32\n"
                      "full_grid = dict(seeds=(0, 1), n_probe=8, steps=4, lrs=dict(full=(2e-5, 1e-4), lora=(2e-4,), hft=(2e-5,)))"),
    '60_guide': "measure_steps = 2",
}

# ----------------------------------------------------------------------------------------------------------------
# The simulated Hub

def _hub_repo(hf_home:Path, kind:str, repo_id:str) -> Path:
    "An empty snapshot folder of `repo_id` in the Hub cache layout (refs/main -> FAKE_SHA), returned."
    base = hf_home/'hub'/f"{kind}s--{repo_id.replace('/', '--')}"
    snap = base/'snapshots'/FAKE_SHA
    if snap.exists(): shutil.rmtree(snap)
    snap.mkdir(parents=True)
    (base/'refs').mkdir(exist_ok=True); (base/'refs'/'main').write_text(FAKE_SHA)
    return snap

def _copy_model(src:Path, snap:Path, skip=()):
    for f in Path(src).iterdir():
        if f.name in skip: continue
        (shutil.copytree if f.is_dir() else shutil.copy2)(f, snap/f.name)

def news_rows(n:int, seed:int) -> list[dict]:
    "`n` generated news headlines in ag_news's schema (`text`, `label` 0-3), balanced over the four topics."
    rng = random.Random(seed)
    topics = {0: (['The president of', 'Ministers in', 'Rebels near', 'Voters across', 'Diplomats from'],
                  ['sign a ceasefire', 'hold talks on the border', 'call an early election', 'protest new taxes']),
              1: (['The home side', 'The champions', 'A young striker from', 'The coach of', 'Fans of'],
                  ['win the cup final', 'lose in extra time', 'sign a new contract', 'break the league record']),
              2: (['Shares of', 'The central bank of', 'Investors in', 'The largest retailer in', 'Oil prices in'],
                  ['rise after strong earnings', 'cut interest rates', 'report record profits', 'fall on weak demand']),
              3: (['Researchers in', 'A start-up from', 'Engineers at a lab in', 'Astronomers in', 'Software makers in'],
                  ['launch a new chip', 'find water on a distant moon', 'release an open-source model', 'fix a browser flaw'])}
    places = ['Paris', 'Lagos', 'Lima', 'Osaka', 'Oslo', 'Cairo', 'Perth', 'Quito', 'Hanoi', 'Accra']
    rows = []
    for i in range(n):
        lab = i % 4; subj, pred = topics[lab]
        rows.append({'text': f"{rng.choice(subj)} {rng.choice(places)} {rng.choice(pred)}, officials said on {rng.choice(['Monday', 'Friday', 'Sunday'])}.",
                     'label': lab})
    rng.shuffle(rows)
    return rows

def _cache_news(hf_home:Path, n_train:int=2400, n_test:int=1200):
    "Put the ag_news stand-in where `datasets` finds a Hub dataset offline: its cache, as a first online load leaves it."
    from datasets import ClassLabel, Dataset, Features, Value
    from datasets.packaged_modules.parquet.parquet import Parquet
    feats = Features({'text': Value('string'), 'label': ClassLabel(names=NEWS_LABELS)})
    work = hf_home/'_news_src'; work.mkdir(parents=True, exist_ok=True)
    files = {}
    for split, n, seed in (('train', n_train, 0), ('test', n_test, 1)):
        files[split] = str(work/f'{split}.parquet')
        Dataset.from_list(news_rows(n, seed), features=feats).to_parquet(files[split])
    cache = hf_home/'datasets'
    b = Parquet(dataset_name='ag_news', data_files=files, features=feats, cache_dir=str(cache/'_build'))
    b.download_and_prepare()
    built = Path(b.cache_dir)
    dst = cache/f"{NEWS.split('/')[0]}___{NEWS.split('/')[1]}"/'default'/'0.0.0'/FAKE_SHA
    if dst.exists(): shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for f in built.iterdir():
        if f.is_file(): shutil.copy2(f, dst/f.name)
    shutil.rmtree(cache/'_build'); shutil.rmtree(work)

def build_hub(hf_home:Path) -> Path:
    "Lay out the simulated Hub cache under `hf_home`; returns it. The models are the real ones, the news data a stand-in."
    from lowres_ft.core import encoder_path, resolve_model
    from lowres_ft.real_model import SMOLLM2_TEMPLATE
    hf_home = Path(hf_home)
    snap = _hub_repo(hf_home, 'model', DECODER)
    _copy_model(resolve_model('embedded:smollm2'), snap, skip=('build_info.json', 'chat_template.jinja'))
    (snap/'chat_template.jinja').write_text(SMOLLM2_TEMPLATE)   # the Hub copy's own template (no generation marks)
    _copy_model(encoder_path(), _hub_repo(hf_home, 'model', ENCODER))
    _cache_news(hf_home)
    return hf_home

# ----------------------------------------------------------------------------------------------------------------
# Executing a chapter

def injected_source(chapter:str) -> str:
    "The cell put after `chapter`'s parameters cell: the colab preset with CPU-sized steps, and the chapter's shrunk grid."
    return ("# injected by tools/colab_sim.py: the colab preset, sizes shrunk for a CPU\n"
            "from lowres_ft.core import get_preset\n"
            f"preset = {PRESET}\n" + SHRINK.get(chapter, ''))

def run_chapter(chapter:str, hf_home:Path, out_dir:Path, timeout:int=1800) -> dict:
    "Execute `nbs/<chapter>.ipynb` under the simulated Hub; returns a record (ok, wall time, failing cell)."
    import nbformat
    sys.path.insert(0, str(ROOT/'tools'))
    from run_chapter import inject_and_run   # the one way a chapter is executed with injected parameters
    nb = nbformat.read(ROOT/'nbs'/f'{chapter}.ipynb', as_version=4)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {'HF_HOME': str(hf_home), 'HF_HUB_OFFLINE': '1', 'LOWRES_FT_PRESET': 'colab',   # 'auto' picks colab on Colab
            'LOWRES_FT_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1',
           'LOWRES_FT_CLAIMS': str(out_dir/'claims'), 'MPLBACKEND': 'Agg', 'TOKENIZERS_PARALLELISM': 'false'}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    t0 = time.time(); rec = {'chapter': chapter, 'ok': True, 'error': None, 'cells': sum(c.cell_type == 'code' for c in nb.cells) + 1}
    try:
        ok, err, bad = inject_and_run(nb, injected_source(chapter), ROOT/'nbs', timeout, tag='injected-parameters')
        if not ok:
            rec.update(ok=False, error=err)
            if bad is not None: rec['cell'] = ''.join(nb.cells[bad].source)[:300]
    except Exception as e:
        rec.update(ok=False, error=f'{type(e).__name__}: {e}'[:400])
    finally:
        for k, v in old.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v
    rec['wall_s'] = round(time.time() - t0, 1)
    nbformat.write(nb, out_dir/f'{chapter}.ipynb')
    return rec

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('chapters', nargs='*', default=CHAPTERS, help=f'chapters to run (default: all of {CHAPTERS})')
    ap.add_argument('--work', default=None, help='folder for the simulated Hub and the executed copies (default: a temporary one)')
    ap.add_argument('--record', default=str(ROOT/'data'/'colab'/'sim.json'), help="where to write the result record ('' = nowhere)")
    a = ap.parse_args(argv)
    unknown = [c for c in a.chapters if c not in CHAPTERS]
    if unknown: ap.error(f'unknown chapter(s) {unknown}; choose from {CHAPTERS}')
    import tempfile
    work = Path(a.work or tempfile.mkdtemp(prefix='colab_sim_'))
    t0 = time.time(); hub = build_hub(work/'hf'); print(f'simulated Hub laid out in {time.time()-t0:.0f} s under {work}', flush=True)
    runs = []
    for ch in a.chapters:
        r = run_chapter(ch, hub, work/'executed'); runs.append(r)
        print(f"{ch:26} {'passed' if r['ok'] else 'FAILED'} in {r['wall_s']:.0f} s" + ('' if r['ok'] else f"\n    {r['error']}\n    cell: {r.get('cell', '')[:200]!r}"), flush=True)
    import torch, transformers
    env = {'date': datetime.date.today().isoformat(), 'device': f'CPU ({os.cpu_count()} cores)', 'torch': torch.__version__,
           'transformers': transformers.__version__, 'python': platform.python_version(), 'preset': PRESET}
    for r in runs: r.update(date=env['date'], shrink=SHRINK.get(r['chapter'], ''))
    if a.record:   # one entry per chapter: a run of some chapters replaces their entries and keeps the others'
        path = Path(a.record)
        old = {r['chapter']: r for r in json.loads(path.read_text()).get('runs', [])} if path.exists() else {}
        old.update({r['chapter']: r for r in runs})
        rec = {**env, 'runs': [old[c] for c in CHAPTERS if c in old]}
        path.write_text(json.dumps(rec, indent=1) + '\n'); print('wrote', path)
    return 0 if all(r['ok'] for r in runs) else 1

if __name__ == '__main__': sys.exit(main())
