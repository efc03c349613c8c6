"Each public entry point refuses bad input with an error that names the fix, and leaves nothing half-written."
import json, shutil
from pathlib import Path
import pytest
from lowres_ft import core, train, base
from lowres_ft.core import get_preset, load_model, load_tokenizer, resolve_model
from lowres_ft.train import fit

def test_unknown_preset():
    with pytest.raises(ValueError, match="Use one of"): get_preset('huge')

def test_hub_name_offline_fails_fast(monkeypatch):
    import time
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    t0 = time.time()
    with pytest.raises(core.OfflineError, match="local folder .* embedded default"): load_model('HuggingFaceTB/SmolLM2-135M')
    assert time.time() - t0 < 5

def test_nonexistent_path():
    with pytest.raises(FileNotFoundError, match="Pass an existing folder"): resolve_model('./no/such/model')

def test_folder_without_config(tmp_path):
    with pytest.raises(FileNotFoundError, match="save_pretrained"): resolve_model(tmp_path)

def test_empty_dataset(tmp_path, tiny_base):
    out = tmp_path/'run'
    with pytest.raises(ValueError, match="is empty"): fit('embedded:tiny', [], objective='causal_lm', output_dir=out)
    assert not out.exists()                                    # nothing half-written

def test_missing_column(tmp_path, tiny_base):
    out = tmp_path/'run'
    with pytest.raises(ValueError, match="needs columns .* Rename columns"): fit('embedded:tiny', [{'body': 'x'}], objective='sft', output_dir=out)
    assert not out.exists()

def test_unknown_method_and_objective(tiny_base):
    with pytest.raises(ValueError, match="Did you mean 'lora'"): fit('embedded:tiny', ['a b'], objective='causal_lm', method='lroa')
    with pytest.raises(ValueError, match="Unknown objective"): fit('embedded:tiny', ['a b'], objective='pretraining')

def test_unknown_training_option(tiny_base):
    with pytest.raises(TypeError, match="did you mean 'learning_rate'"): fit('embedded:tiny', ['a b'], objective='causal_lm', lerning_rate=1)

def test_max_length_too_small(tiny_base):
    with pytest.raises(ValueError, match="too small"): fit('embedded:tiny', ['a b c d'], objective='causal_lm', max_length=2, progress=False)

def test_label_outside_label_set():
    m, tok = load_model('embedded:encoder', task='classification', num_labels=2), load_tokenizer('embedded:encoder')
    with pytest.raises(ValueError, match="outside the model's 2 classes"):
        fit(m, [{'text': 'hello', 'label': 3}], objective='classification', tokenizer=tok, progress=False)

def test_classification_needs_num_labels():
    with pytest.raises(ValueError, match="num_labels"): load_model('embedded:encoder', task='classification')

def test_kshot_too_large():
    from lowres_ft.data import classification_task, kshot
    ds = classification_task(n_train=40)['train']
    with pytest.raises(ValueError, match="largest k possible|at most"): kshot(ds, 1000)

def test_quantize_without_bitsandbytes(monkeypatch, tiny_base):
    monkeypatch.setattr(core, 'bnb_available', lambda: False)
    with pytest.raises(RuntimeError, match="pip install bitsandbytes"): load_model('embedded:tiny', quantize='4bit')
    with pytest.raises(ValueError, match="'4bit' or '8bit'"): load_model('embedded:tiny', quantize='2bit')

def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch, tiny_base):
    monkeypatch.setenv('LOWRES_FT_CACHE', str(tmp_path))
    bad = tmp_path/'base-tiny'; shutil.copytree(tiny_base, bad)
    with open(bad/'model.safetensors', 'r+b') as f: f.seek(200); f.write(b'garbage')
    calls = []
    def fake_build(size, out, **kw):
        calls.append(size); shutil.rmtree(out); shutil.copytree(tiny_base, out); return out
    monkeypatch.setattr(base, 'build_base', fake_build)
    assert base.ensure_base('tiny') == bad and calls == ['tiny']   # detected and rebuilt, not loaded
    assert base._is_complete(bad)

def test_resume_skips_partial_checkpoint(tmp_path):
    (tmp_path/'checkpoint-5').mkdir(); (tmp_path/'checkpoint-5'/'model.safetensors').write_bytes(b'x')
    with pytest.warns(UserWarning, match="partly"): assert train.last_checkpoint(tmp_path) is None
    assert (tmp_path/'incomplete-checkpoint-5'/'model.safetensors').exists()   # kept, not deleted

def test_model_already_has_adapter(tiny_base):
    m = train.apply_method(load_model('embedded:tiny'), 'lora')
    with pytest.raises(ValueError, match="method=None"): train.apply_method(m, 'lora')

def test_hub_check_is_bounded_and_asked_once(monkeypatch):
    "A stalled resolver cannot stretch the Hub check past its timeout, and the answer is reused."
    import socket, time
    monkeypatch.delenv('LOWRES_FT_OFFLINE', raising=False); monkeypatch.delenv('HF_HUB_OFFLINE', raising=False)
    calls = []
    def stalled(*a, **k): calls.append(1); time.sleep(5); raise OSError('no answer')
    monkeypatch.setattr(socket, 'create_connection', stalled)
    t0 = time.time(); assert core.hub_reachable(timeout=0.5, refresh=True) is False; assert time.time() - t0 < 1.5
    t0 = time.time(); assert core.hub_reachable(timeout=0.5) is False; assert time.time() - t0 < 0.1 and len(calls) == 1
    core._HUB.clear()
