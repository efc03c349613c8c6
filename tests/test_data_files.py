"The committed data/ folder is exactly what `write_embedded_data` writes, and every file loads with `datasets`."
import hashlib, json
import pytest
from conftest import ROOT

DATA = ROOT/'data'
FIX = 'data/ is out of date with the generators in lowres_ft.data: run `python tools/make_data.py` and commit data/.'


@pytest.fixture(scope='module')
def fresh(tmp_path_factory):
    "A freshly generated copy of data/ in a temporary folder."
    from lowres_ft.data import write_embedded_data
    out = tmp_path_factory.mktemp('data')
    write_embedded_data(out)
    return out

@pytest.fixture(scope='module')
def manifest():
    p = DATA/'MANIFEST.json'
    assert p.exists(), f'data/MANIFEST.json is missing. {FIX}'
    return json.loads(p.read_text(encoding='utf-8'))


def test_same_files(fresh):
    want, have = sorted(p.name for p in fresh.iterdir()), sorted(p.name for p in DATA.iterdir() if p.is_file()) if DATA.exists() else []   # data/claims/ holds the executions' records
    assert have == want, f'data/ holds {have}, the generators write {want}. {FIX}'

def test_byte_identical(fresh):
    differ = [p.name for p in sorted(fresh.iterdir()) if not (DATA/p.name).exists() or (DATA/p.name).read_bytes() != p.read_bytes()]
    assert not differ, f'these files differ from a fresh generation: {differ}. {FIX}'

def test_manifest_sha256_and_rows(manifest):
    bad = []
    for name, e in manifest['files'].items():
        raw = (DATA/name).read_bytes()
        if hashlib.sha256(raw).hexdigest() != e['sha256']: bad.append(f'{name}: sha256')
        if raw.count(b'\n') != e['rows'] or not raw.endswith(b'\n'): bad.append(f'{name}: rows')
    assert not bad, f'MANIFEST.json does not match the files: {bad}. {FIX}'
    assert set(manifest['files']) == {p.name for p in DATA.glob('*.jsonl')}, f'MANIFEST.json does not list every .jsonl file. {FIX}'

def test_each_file_loads_with_datasets(manifest, tmp_path):
    from datasets import load_dataset
    for name, e in manifest['files'].items():
        ds = load_dataset('json', data_files=str(DATA/name), split='train', cache_dir=str(tmp_path/'hf'))
        assert len(ds) == e['rows'], f'{name}: load_dataset gives {len(ds)} rows, MANIFEST.json says {e["rows"]}. {FIX}'
        assert sorted(ds.column_names) == e['columns'], f'{name}: columns {ds.column_names}, MANIFEST.json says {e["columns"]}. {FIX}'

def test_size_and_expected_contents(manifest):
    total = sum(p.stat().st_size for p in DATA.iterdir())
    assert total < 8e6, f'data/ is {total / 1e6:.1f} MB; keep it below 8 MB (shrink n for a corpus and record it).'
    rows = {k: v['rows'] for k, v in manifest['files'].items()}
    assert rows['general.jsonl'] == 2000 and rows['classification_test.jsonl'] == 400 and rows['domain_facts.jsonl'] == 40
    first = json.loads((DATA/'classification_train.jsonl').read_text(encoding='utf-8').splitlines()[0])
    assert isinstance(first['label'], int) and first['label_name'] in ('billing', 'shipping', 'technical', 'account')
