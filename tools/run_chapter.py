"""Execute a chapter at a preset and keep its outputs in the notebook: how the committed `small` pages are made.

    python tools/run_chapter.py nbs/30_few_shot.ipynb              # at small (the real model), in place
    python tools/run_chapter.py nbs/30_few_shot.ipynb --preset tiny

A cell setting `preset` is put after the chapter's `parameters` cell (what papermill does), the notebook is executed
top to bottom, and the injected cell is removed again, so the saved page keeps `preset = "auto"` in its code (and
`nbdev-test` keeps running it at `tiny`) while its outputs, whose first line names the preset, come from `--preset`.
The page is written only when every cell passed (a failed run is saved next to it as `<name>.failed.ipynb`), then
cleaned with `nbdev-clean`. The wall time is printed.
"""
from __future__ import annotations
import argparse, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAG = 'injected-parameters'


def inject_and_run(nb, source:str, cwd:Path, timeout:int=3600, tag:str=TAG) -> tuple[bool, str, int|None]:
    """Put a code cell `source` (tagged `tag`) after `nb`'s `parameters` cell, as papermill does, and execute `nb` in place;
    returns (passed, the error's last line, the index of the failing cell). `tools/colab_sim.py` runs its chapters with it."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    i = next((k for k, c in enumerate(nb.cells) if 'parameters' in c.get('metadata', {}).get('tags', [])), None)
    if i is None: raise ValueError("the notebook has no cell tagged 'parameters'; tag the cell that sets `preset`.")
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(source, metadata={'tags': [tag]}))
    try:
        NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(cwd)}}).execute()
    except CellExecutionError as e:
        bad = next((k for k, c in enumerate(nb.cells) if c.cell_type == 'code' and any(o.get('output_type') == 'error' for o in c.get('outputs', []))), None)
        return False, str(e).strip().splitlines()[-1][:400], bad
    return True, '', None


def execute(path:Path, preset:str='small', timeout:int=3600) -> tuple[bool, float, str]:
    "Execute `path` at `preset` in place; returns (passed, wall seconds, error line)."
    import nbformat
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
    t0 = time.time()
    try: ok, err, _ = inject_and_run(nb, f"preset = {preset!r}  # injected by tools/run_chapter.py", path.parent, timeout)
    except ValueError as e: raise SystemExit(f"{path.name}: {e}")
    wall = time.time() - t0
    nb.cells = [c for c in nb.cells if TAG not in c.get('metadata', {}).get('tags', [])]
    slow = cell_times(nb)   # after the injected cell is gone, so indices are the page's own
    n = 1
    for c in nb.cells:   # execution counts without the removed cell's
        if c.cell_type == 'code' and c.get('execution_count') is not None: c.execution_count = n; n += 1
    out = path if ok else path.with_suffix('.failed.ipynb')
    nbformat.write(nb, out)
    subprocess.run(['nbdev-clean', '--fname', str(out)], check=False, cwd=ROOT)
    if slow: print(f"{path.name}: slowest cells (s): " + ', '.join(f"#{i} ({nb.cells[i].get('id', '?')}) {t:.0f}" for i, t in slow[:10]), flush=True)
    return ok, wall, err


def cell_times(nb) -> list[tuple[int, float]]:
    "(index, seconds) of each executed code cell, slowest first, from the timing nbclient records (`nbdev-clean` removes it)."
    from datetime import datetime
    out = []
    for i, c in enumerate(nb.cells):
        ex = c.get('metadata', {}).get('execution', {})
        a, b = ex.get('iopub.execute_input'), ex.get('shell.execute_reply')
        if a and b: out.append((i, (datetime.fromisoformat(b.replace('Z', '+00:00')) - datetime.fromisoformat(a.replace('Z', '+00:00'))).total_seconds()))
    return sorted(out, key=lambda x: -x[1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('notebook', help='the chapter, e.g. nbs/30_few_shot.ipynb')
    ap.add_argument('--preset', default='small', help="the preset to run at: 'small' (default), 'tiny' or 'colab'")
    ap.add_argument('--timeout', type=int, default=3600, help='seconds one cell may take')
    a = ap.parse_args(argv)
    path = Path(a.notebook).resolve()
    if not path.exists(): ap.error(f'{a.notebook} does not exist')
    ok, wall, err = execute(path, a.preset, a.timeout)
    print(f"{path.name} at {a.preset}: {'passed' if ok else 'FAILED'} in {wall/60:.1f} min" + ('' if ok else f"\n  {err}"), flush=True)
    return 0 if ok else 1


if __name__ == '__main__': sys.exit(main())
