import os, sys, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault('LOWRES_FT_OFFLINE', '1')   # tests never touch the network
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')

@pytest.fixture(scope='session')
def tiny_base():
    "Build (or reuse) the embedded tiny base once per test session."
    from lowres_ft.base import ensure_base
    return ensure_base('tiny')

def run_py(*args, timeout=600, env=None, **kw):
    "Run python with `args`, returning the CompletedProcess (stdout+stderr captured)."
    e = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=e, **kw)
