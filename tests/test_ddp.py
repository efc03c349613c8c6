"fit() runs unchanged as two real processes under torchrun (gloo on CPU); both ranks end with identical weights."
import os, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch
from conftest import ROOT

SCRIPT = ROOT/'tests'/'scripts'/'fit_run.py'

def torchrun(out, steps):
    return [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', str(SCRIPT), str(out), str(steps)]

ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}

@pytest.fixture(scope='module')
def ddp_run(tmp_path_factory, tiny_base):
    "An uninterrupted two-process run of 6 steps."
    out = tmp_path_factory.mktemp('ddp')/'ref'
    r = subprocess.run(torchrun(out, 6), capture_output=True, text=True, timeout=600, env=ENV)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return out

def test_two_process_ddp(ddp_run):
    w0, w1 = torch.load(ddp_run/'weights-rank0.pt'), torch.load(ddp_run/'weights-rank1.pt')
    assert w0['world'] == w1['world'] == 2            # two real processes in one process group
    assert w0['step'] == w1['step'] == 6
    for k in w0['state']:
        torch.testing.assert_close(w0['state'][k], w1['state'][k], rtol=0, atol=0, msg=k)
    assert any(v.abs().sum() > 0 for k, v in w0['state'].items() if 'lora_B' in k)   # it trained

def _children(pid:int) -> list:
    try: return [int(x) for x in Path(f'/proc/{pid}/task/{pid}/children').read_text().split()]
    except OSError: return []

def _alive(pid:int) -> bool:
    "The process exists and is not a zombie."
    try: return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError): return False

def test_killed_launcher_stops_its_workers_and_the_run_resumes(tmp_path, ddp_run):
    """torchrun starts its workers in sessions of their own: a SIGKILLed torchrun used to leave both training into the
    output folder. Now they stop within seconds, and the same command resumes to the uninterrupted run's weights."""
    out = tmp_path/'killed'
    p = subprocess.Popen(torchrun(out, 6), env={**ENV, 'STEP_DELAY': '1.5'}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not (out/'checkpoint-3'/'lowres_ft_checkpoint.json').exists():
        assert p.poll() is None, 'the run ended before it could be killed'
        assert time.time() - t0 < 300, 'no complete checkpoint-3 after 300 s'
        time.sleep(0.05)
    workers = _children(p.pid)
    assert len(workers) == 2, workers
    os.kill(p.pid, signal.SIGKILL); p.wait()
    t0 = time.time()
    while any(_alive(w) for w in workers):
        if time.time() - t0 > 30:
            for w in workers:
                if _alive(w): os.kill(w, signal.SIGKILL)
            pytest.fail('the workers kept running 30 s after their launcher was killed')
        time.sleep(0.2)
    assert not (out/'weights-rank0.pt').exists() and not (out/'final').exists()   # they really stopped mid-run
    r = subprocess.run(torchrun(out, 6), capture_output=True, text=True, timeout=600, env=ENV)   # the same command
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    a, b = torch.load(ddp_run/'weights-rank0.pt'), torch.load(out/'weights-rank0.pt')
    assert a['step'] == b['step'] == 6
    for k in a['state']:
        torch.testing.assert_close(a['state'][k], b['state'][k], rtol=0, atol=1e-6, msg=k)
