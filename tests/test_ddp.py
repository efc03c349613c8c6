"fit() runs unchanged as two real processes under torchrun (gloo on CPU); both ranks end with identical weights."
import os, shutil, subprocess, sys
import torch
from conftest import ROOT

def test_two_process_ddp(tmp_path, tiny_base):
    torchrun = shutil.which('torchrun') or str(ROOT/'.venv'/'bin'/'torchrun')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
           str(ROOT/'tests'/'scripts'/'fit_run.py'), str(tmp_path), '6']
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    w0, w1 = torch.load(tmp_path/'weights-rank0.pt'), torch.load(tmp_path/'weights-rank1.pt')
    assert w0['world'] == w1['world'] == 2            # two real processes in one process group
    assert w0['step'] == w1['step'] == 6
    for k in w0['state']:
        torch.testing.assert_close(w0['state'][k], w1['state'][k], rtol=0, atol=0, msg=k)
    assert any(v.abs().sum() > 0 for k, v in w0['state'].items() if 'lora_B' in k)   # it trained
