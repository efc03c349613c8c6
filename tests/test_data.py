"Bad inputs and determinism for `lowres_ft.data` (fast: no models, no network)."
import hashlib, json, os, subprocess, sys
import pandas as pd
import pytest
from datasets import Dataset

import lowres_ft.data as D


@pytest.fixture
def offline(monkeypatch):
    "Make the Hub look unreachable, whatever the machine."
    monkeypatch.setattr(D, '_hub_reachable', lambda: False)


# --- bad inputs: each error must say what to do about it -------------------------------------------

def test_load_data_missing_path_names_path_and_fix(tmp_path):
    p = tmp_path / 'nope.jsonl'
    with pytest.raises(FileNotFoundError, match='check the path') as e: D.load_data(p)
    assert str(p) in str(e.value) and 'classification_task()' in str(e.value)

def test_load_data_hub_name_offline_fails_fast_with_fix(offline):
    with pytest.raises(ConnectionError) as e: D.load_data('stanfordnlp/imdb')
    msg = str(e.value)
    assert 'Pass a local path' in msg and 'classification_task()' in msg

def test_load_data_empty_file(tmp_path):
    (tmp_path / 'empty.jsonl').write_text('')
    with pytest.raises(ValueError, match='write at least one example'): D.load_data(tmp_path / 'empty.jsonl')
    (tmp_path / 'blank.txt').write_text('\n\n')
    with pytest.raises(ValueError, match='add rows or point load_data at another file'): D.load_data(tmp_path / 'blank.txt')

def test_load_data_bad_jsonl_line(tmp_path):
    (tmp_path / 'bad.jsonl').write_text('{"text": "ok"}\n{not json}\n')
    with pytest.raises(ValueError, match='line 2 .*one JSON object per line'): D.load_data(tmp_path / 'bad.jsonl')

def test_load_data_unknown_split_and_text_col(tmp_path):
    D.classification_task(8, 4, 4).save_to_disk(tmp_path / 'dd')
    with pytest.raises(ValueError, match=r"pass split= one of \['train', 'dev', 'test'\]"): D.load_data(tmp_path / 'dd', split='validation')
    with pytest.raises(KeyError, match='available columns are'): D.load_data(tmp_path / 'dd', split='dev', text_col='body')

def test_kshot_k_too_large_names_class_count_and_max():
    ds = Dataset.from_dict({'text': list('abcdefg'), 'label': [0, 0, 0, 1, 1, 1, 1]})
    with pytest.raises(ValueError) as e: D.kshot(ds, 4)
    msg = str(e.value)
    assert "Class 0 has only 3 examples" in msg and 'largest k possible is 3' in msg and 'Use a smaller k' in msg
    cls = D.classification_task(8, 4, 4)['train']
    with pytest.raises(ValueError, match="Class 'billing' has only 2 examples"): D.kshot(cls, 3)

def test_kshot_missing_column_lists_columns():
    ds = Dataset.from_dict({'text': ['a'], 'intent': [0]})
    with pytest.raises(D.MissingColumnError) as e: D.kshot(ds, 1)
    assert "available columns are ['text', 'intent']" in str(e.value) and 'rename_column' in str(e.value)
    assert isinstance(e.value, KeyError) and isinstance(e.value, ValueError)

def test_check_labels_outside_label_set():
    ds = Dataset.from_dict({'text': ['a', 'b'], 'label': [1, 9]})
    with pytest.raises(ValueError, match=r'row 1: 9.*Fix those rows, or pass the full label set'): D.check_labels(ds, 'label', D.CLASS_LABELS)

def test_mix_bad_ratio_and_empty_target():
    with pytest.raises(ValueError, match=r'ratio must be in \[0, 1\]'): D.mix(['a'], ['b'], 1.5)
    with pytest.raises(TypeError, match='ratio must be a number'): D.mix(['a'], ['b'], '0.2')
    with pytest.raises(ValueError, match='pass the task data you fine-tune on'): D.mix([], ['b'], 0.2)
    with pytest.raises(ValueError, match='pass replay data or ratio=0'): D.mix(['a'] * 10, [], 0.2)

def test_to_preference_identical_pair_names_row_and_fix():
    ds = Dataset.from_dict({'prompt': ['p', 'q'], 'chosen': ['x', 'y'], 'rejected': ['z', 'y']})
    with pytest.raises(ValueError, match='Row 1: chosen and rejected are the same.*drop the row'): D.to_preference(ds)

def test_to_prompt_completion_empty_prompt():
    ds = Dataset.from_dict({'prompt': ['ok', '  '], 'completion': ['a', 'b']})
    with pytest.raises(ValueError, match=r'Row 1: the prompt .*fill it in or drop the row'): D.to_prompt_completion(ds)

def test_formatting_rejects_datasetdict_and_missing_template_field():
    with pytest.raises(TypeError, match="pick one split first"): D.to_text(D.classification_task(4, 4, 4))
    with pytest.raises(KeyError, match='Every {field} in the template must be a column'): D.to_text(D.instruction_set(4), '{question}')

def test_generator_arguments():
    with pytest.raises(TypeError, match='pass e.g. n=100'): D.general_corpus('10')
    with pytest.raises(ValueError, match='must be >= 0'): D.domain_corpus(-1)
    with pytest.raises(ValueError, match='use a non-empty subset of'): D.instruction_set(4, kinds=['poetry'])
    with pytest.raises(ValueError, match='use n_qa <='): D.general_probes(n_qa=10_000)
    with pytest.raises(ValueError, match='domain_facts\\(\\).compound'): D.check_answer('domain_dose', 'What is the usual dose of aspirin?', '5 mg')
    with pytest.raises(ValueError, match='max_word_repeat is a share of words in \\(0, 1\\]'): D.quality_filter(['a b c'], max_word_repeat=0)


# --- determinism -------------------------------------------------------------------------------------

def test_same_seed_same_output_different_seed_different_output():
    assert D.general_corpus(30) == D.general_corpus(30) == D.general_corpus(60)[:30]
    assert D.general_corpus(30, seed=1) != D.general_corpus(30)
    assert D.domain_facts().equals(D.domain_facts()) and not D.domain_facts(1).equals(D.domain_facts())
    assert D.classification_task(8, 4, 8)['test']['text'][:] == D.classification_task(40, 4, 8)['test']['text'][:]
    assert D.preference_pairs(20).to_list() == D.preference_pairs(20).to_list()
    assert D.kshot(D.classification_task()['train'], 4, seed=3)['text'][:] == D.kshot(D.classification_task()['train'], 4, seed=3)['text'][:]

def test_probe_texts_never_in_general_corpus():
    assert not set(D.general_probes(50, 5)['texts']) & set(D.general_corpus(5000))

def test_judge_ranks_every_generated_pair():
    for r in D.preference_pairs(200, seed=7):
        assert D.judge(r['prompt'], r['chosen'], r['kind']) > D.judge(r['prompt'], r['rejected'], r['kind'])

_FINGERPRINT = ("import hashlib, json, lowres_ft.data as D;"
                "x=[D.general_corpus(200), D.domain_corpus(100), D.lowres_parallel(50), D.instruction_set(50)['prompt'][:],"
                "D.classification_task(40, 8, 8)['test']['text'][:], D.general_probes(10, 10)['qa'].to_list()];"
                "print(hashlib.md5(json.dumps(x).encode()).hexdigest())")

def test_deterministic_across_processes_and_hash_seeds():
    outs = set()
    for hs in ('1', '2'):
        env = dict(os.environ, PYTHONHASHSEED=hs)
        r = subprocess.run([sys.executable, '-c', _FINGERPRINT], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        outs.add(r.stdout.strip().splitlines()[-1])
    assert len(outs) == 1
