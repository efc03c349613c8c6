"Write the embedded datasets into data/ as JSONL (run it after changing a generator in nbs/01_data.ipynb and `nbdev-export`)."
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))   # the package in this checkout, even without an editable install
from lowres_ft.data import write_embedded_data

manifest = write_embedded_data(root/'data')
for name, e in manifest['files'].items(): print(f"{name:28s} {e['rows']:6d} rows")
total = sum(p.stat().st_size for p in (root/'data').iterdir())
print(f"data/ written: {len(manifest['files'])} JSONL files + MANIFEST.json + README.md, {total / 1e6:.2f} MB")
