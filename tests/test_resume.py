"A run killed with SIGKILL resumes from its last complete checkpoint and ends at the same weights as an uninterrupted run."
import os, signal, subprocess, sys, time
from pathlib import Path
import torch
from conftest import ROOT, run_py

SCRIPT = ROOT/'tests'/'scripts'/'fit_run.py'

def test_kill_and_resume(tmp_path, tiny_base):
    steps = 12
    ref = run_py(SCRIPT, tmp_path/'ref', steps)
    assert ref.returncode == 0, ref.stderr[-3000:]
    # start a slowed-down run and SIGKILL it once checkpoint-6 is complete
    run = tmp_path/'killed'
    p = subprocess.Popen([sys.executable, str(SCRIPT), str(run), str(steps)], env={**os.environ, 'STEP_DELAY': '0.4'},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not (run/'checkpoint-6'/'trainer_state.json').exists():
        assert p.poll() is None, 'the run ended before it could be killed'
        assert time.time() - t0 < 300, 'no checkpoint-6 after 300 s'
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL
    assert not (run/'weights-rank0.pt').exists()           # it really died before the end
    done = sorted(int(c.name.split('-')[1]) for c in run.glob('checkpoint-*'))
    assert 6 in done and steps not in done, done
    res = run_py(SCRIPT, run, steps)                       # same command again: resumes
    assert res.returncode == 0, res.stderr[-3000:]
    a = torch.load(tmp_path/'ref'/'weights-rank0.pt'); b = torch.load(run/'weights-rank0.pt')
    assert a['step'] == b['step'] == steps
    assert a['state'].keys() == b['state'].keys() and len(a['state']) > 0
    for k in a['state']:
        torch.testing.assert_close(a['state'][k], b['state'][k], rtol=0, atol=1e-6, msg=k)
    # and a run from scratch with a different seed would differ: the comparison can fail
    base = {k: v for k, v in a['state'].items() if 'lora_B' in k}
    assert any(v.abs().sum() > 0 for v in base.values())
