"The `lowres-ft` command, end to end, as a user runs it."
import json, os, shutil, subprocess, sys
from pathlib import Path
import pandas as pd
import pytest
from conftest import ROOT

def lowres_ft(*args, timeout=600):
    exe = shutil.which('lowres-ft') or str(Path(sys.executable).parent/'lowres-ft')
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=timeout)

@pytest.mark.parametrize('cmd', [[], ['quickstart'], ['build-base'], ['train'], ['presets'], ['bench']])
def test_help(cmd):
    r = lowres_ft(*cmd, '--help')
    assert r.returncode == 0 and 'usage: lowres-ft' in r.stdout

def test_train_bad_path_exit_code(tmp_path):
    r = lowres_ft('train', '--data', tmp_path/'missing.jsonl', '--out', tmp_path/'o')
    assert r.returncode == 2 and 'error' in r.stderr

def test_train_on_jsonl(tmp_path, tiny_base):
    f = tmp_path/'sft.jsonl'
    f.write_text('\n'.join(json.dumps({'prompt': f'What is {i} plus 1?', 'completion': str(i+1)}) for i in range(20)))
    r = lowres_ft('train', '--data', f, '--objective', 'sft', '--steps', '4', '--out', tmp_path/'o')
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path/'o'/'final'/'adapter_model.safetensors').exists()

def test_quickstart(tmp_path, tiny_base):
    "The quickstart's whole path on the toy model (seconds); the real-model run is measured on the CLI page."
    r = lowres_ft('quickstart', '--preset', 'tiny', '--out', tmp_path, '--epochs', '2')
    assert r.returncode == 0, r.stderr[-3000:]
    t = pd.read_csv(tmp_path/'results.csv', index_col=0)
    assert {'domain accuracy', 'general-ability accuracy', 'domain perplexity', 'general perplexity'} <= set(t.index)
    assert t.loc['domain accuracy', 'n'] == 40 and t.loc['general-ability accuracy', 'n'] == 96   # every question scored
    loss = pd.read_csv(tmp_path/'history.csv')['loss'].dropna()
    assert loss.iloc[-1] < loss.iloc[0]                                                       # it learned something
    assert (tmp_path/'quickstart.png').stat().st_size > 10_000
    assert (tmp_path/'adapter'/'adapter_config.json').exists()

def test_bench_on_cpu(tmp_path, tiny_base):
    r = lowres_ft('bench', '--arch', 'tiny', '--methods', 'full,lora', '--variants', 'trl,lowres', '--seq-len', '64',
                  '--batch', '4', '--examples', '16', '--csv', tmp_path/'b.csv')
    assert r.returncode == 0, r.stderr[-3000:]
    df = pd.read_csv(tmp_path/'b.csv')
    assert len(df) == 4 and (df.tokens_per_s > 0).all() and (df.peak_mem_gb > 0).all()
    assert set(df.variant) == {'trl', 'lowres'} and df.speedup_vs_trl.notna().all()

def test_train_help_states_the_output_folder_contract():
    r = lowres_ft('train', '--help')
    assert r.returncode == 0 and '--overwrite' in r.stdout and 'resumes' in r.stdout and 'Ctrl-C' in r.stdout

def test_train_diverged_run_exits_nonzero(tmp_path, tiny_base):
    "--lr 1e9 used to save an all-NaN adapter and exit 0."
    f = tmp_path/'sft.jsonl'
    f.write_text('\n'.join(json.dumps({'prompt': f'What is {i} plus 1?', 'completion': str(i+1)}) for i in range(20)))
    r = lowres_ft('train', '--data', f, '--steps', '6', '--lr', '1e9', '--out', tmp_path/'o')
    assert r.returncode == 2 and 'Training diverged' in r.stderr and 'saved:' not in r.stdout
    assert not (tmp_path/'o'/'final').exists()
    r = lowres_ft('train', '--data', f, '--steps', '4', '--out', tmp_path/'o')           # the corrected command: refused, with the fix
    assert r.returncode == 2 and 'different configuration' in r.stderr and '--overwrite' in r.stderr
    assert lowres_ft('train', '--data', f, '--steps', '4', '--out', tmp_path/'o', '--overwrite').returncode == 0
