"Every PEFT method trains a few steps (loss falls), round-trips through save/load, and bad inputs fail clearly."
import copy, tempfile, warnings
import pytest, torch
from lowres_ft.core import use_preset, load_model, load_tokenizer
from lowres_ft.data import instruction_set, classification_task, kshot
from lowres_ft.train import fit, get_method, METHODS
from lowres_ft import peft_methods as pm

warnings.filterwarnings('ignore')
P = use_preset('tiny')

@pytest.fixture(scope='module')
def tok(): return load_tokenizer(P.decoder)

@pytest.fixture(scope='module')
def dec(): return load_model(P.decoder)

@pytest.fixture(scope='module')
def sft():   # one batch of 8, seen every step: the loss must fall
    return instruction_set(8, seed=0).select_columns(['messages'])

def _logits(m, tok):
    b = tok(['The cat sat on the mat.', 'Add 2 and 3.'], return_tensors='pt', padding=True)
    m.eval()
    with torch.no_grad(): return m(**b).logits

DECODER_METHODS = ['full', 'layernorm', 'lora', 'qlora', 'dora', 'rslora', 'pissa', 'adalora', 'ia3',
                   'prompt_tuning', 'prefix_tuning', 'p_tuning']

def test_registry_has_every_method():
    assert set(DECODER_METHODS + ['bitfit']) <= set(METHODS)

@pytest.mark.parametrize('method', DECODER_METHODS)
def test_method_trains_and_round_trips(method, dec, tok, sft):
    base = (lambda: load_model(P.decoder, quantize='4bit')) if method == 'qlora' else (lambda: copy.deepcopy(dec))
    model = get_method(method).apply(base(), task='causal_lm')
    lr = {'full': 3e-3, 'prompt_tuning': 3e-2, 'prefix_tuning': 3e-2, 'p_tuning': 3e-2, 'layernorm': 3e-2, 'ia3': 3e-2}.get(method, 1e-2)
    r = fit(model, sft, 'sft', None, tokenizer=tok, max_steps=6, logging_steps=1, learning_rate=lr, warmup_steps=0,
            callbacks=getattr(model, 'lowres_callbacks', ()), progress=False)
    loss = r.history['loss'].dropna()
    assert loss.iloc[-1] < loss.iloc[0], f'{method}: loss {loss.tolist()}'
    y = _logits(r.model, tok)
    with tempfile.TemporaryDirectory() as d:
        pm.save_adapter(r.model, d)
        back = pm.load_adapter(base(), d)
        torch.testing.assert_close(_logits(back, tok), y, atol=5e-2 if method == 'qlora' else 1e-4, rtol=0)  # 4-bit: ~1e-2 drift, see the chapter

def test_bitfit_on_minilm_trains_and_round_trips():
    etok = load_tokenizer(P.encoder)
    enc = load_model(P.encoder, task='classification', num_labels=4)
    data = kshot(classification_task()['train'], 2)
    model = pm.bitfit(copy.deepcopy(enc), 'classification')
    assert 0 < sum(q.numel() for q in model.parameters() if q.requires_grad) < 30_000
    r = fit(model, data, 'classification', None, tokenizer=etok, max_steps=4, logging_steps=1, learning_rate=1e-2,
            warmup_steps=0, max_length=32, progress=False)
    loss = r.history['loss'].dropna(); assert loss.iloc[-1] < loss.iloc[0]
    b = etok(['where is my parcel?'], return_tensors='pt')
    r.model.eval()
    with torch.no_grad(): y = r.model(**b).logits
    with tempfile.TemporaryDirectory() as d:
        back = pm.load_adapter(copy.deepcopy(enc), pm.save_adapter(r.model, d)); back.eval()
        with torch.no_grad(): torch.testing.assert_close(back(**b).logits, y)

def test_adalora_callback_prunes_ranks(dec, tok, sft):
    m = pm.adalora(copy.deepcopy(dec), init_r=8, target_r=2)
    fit(m, sft, 'sft', None, tokenizer=tok, max_steps=10, callbacks=m.lowres_callbacks, progress=False)
    pattern = m.peft_config['default'].rank_pattern
    assert pattern and sum(sum(v) for v in pattern.values()) < 8 * len(pattern)

@pytest.mark.parametrize('method', ['lora', 'ia3', 'dora', 'qlora'])
def test_merged_matches_unmerged(method, dec, tok, sft):
    base = load_model(P.decoder, quantize='4bit') if method == 'qlora' else copy.deepcopy(dec)
    r = fit(base, sft, 'sft', method, tokenizer=tok, max_steps=3, learning_rate=1e-2, progress=False)
    y = _logits(r.model, tok)
    merged = pm.merge_adapter(r.model)
    assert not pm.is_4bit(merged) and type(merged).__name__ == 'LlamaForCausalLM'
    # a trained 4-bit model's own forward drifts ~5e-3 from dequantized + adapter (bitsandbytes CPU kernels)
    torch.testing.assert_close(_logits(merged, tok), y, atol=2e-2 if method == 'qlora' else 1e-3, rtol=0)
    with tempfile.TemporaryDirectory() as d:   # the 16-bit file on disk
        if method == 'qlora':
            r2 = fit(load_model(P.decoder, quantize='4bit'), sft, 'sft', 'qlora', tokenizer=tok, max_steps=3, progress=False)
            y2 = _logits(r2.model, tok)
            pm.save_merged(r2.model, d, dtype=torch.bfloat16)
            torch.testing.assert_close(_logits(load_model(d, precision='fp32'), tok), y2, atol=0.1, rtol=0)

# --- bad inputs: clear errors that name the fix
def test_bitfit_refuses_llama_without_biases(dec):
    with pytest.raises(ValueError, match="method='layernorm'"): pm.bitfit(copy.deepcopy(dec))

def test_qlora_needs_a_quantized_base(dec):
    with pytest.raises(ValueError, match="quantize='4bit'"): pm.qlora(copy.deepcopy(dec))

def test_soft_prompts_need_a_peft_task(dec):
    for name in ('prompt_tuning', 'prefix_tuning', 'p_tuning', 'ia3', 'adalora'):
        with pytest.raises(ValueError, match='PEFT task type'): get_method(name).apply(copy.deepcopy(dec), task='masked_lm')

def test_soft_prompt_options(dec):
    with pytest.raises(ValueError, match='>= 1'): pm.prompt_tuning(copy.deepcopy(dec), num_virtual_tokens=0)
    with pytest.raises(ValueError, match='without quantize'): pm.prefix_tuning(load_model(P.decoder, quantize='4bit'))

def test_soft_prompts_cannot_merge(dec):
    with pytest.raises(ValueError, match='cannot be merged'): pm.merge_adapter(pm.p_tuning(copy.deepcopy(dec)))

def test_selective_options_and_save(dec):
    with pytest.raises(TypeError, match='train_head'): pm.layernorm(copy.deepcopy(dec), r=4)
    frozen = copy.deepcopy(dec)
    for q in frozen.parameters(): q.requires_grad_(False)
    with pytest.raises(ValueError, match='apply a method'): pm.save_adapter(frozen, tempfile.mkdtemp())

def test_load_adapter_errors(dec, tmp_path):
    with pytest.raises(FileNotFoundError, match='save_adapter'): pm.load_adapter(copy.deepcopy(dec), tmp_path)
    enc = load_model(P.encoder, task='classification', num_labels=4)
    d = pm.save_adapter(pm.bitfit(enc, 'classification'), tmp_path/'bitfit')
    with pytest.raises(ValueError, match='base it was trained from'): pm.load_adapter(copy.deepcopy(dec), d)

def test_unknown_method_suggests():
    with pytest.raises(ValueError, match="Did you mean 'prefix_tuning'"): get_method('prefix-tuning')

def test_latency_n_is_checked_before_any_training(dec, tok, sft):
    "A bad latency_n is refused at once, naming the fix, before a copy of the model trains."
    for bad in (2, 5.0, True):
        with pytest.raises(ValueError, match='latency_n must be an int >= 3'): pm.method_costs(dec, 'lora', sft, 'sft', tok, latency_n=bad)

def test_cost_table_row(dec, tok, sft):
    row = pm.method_costs(dec, 'lora', sft, 'sft', tok, steps=2)
    assert 0 < row['trainable_pct'] < 100 and row['adapter_mb'] > 0 and row['step_s'] > 0
    assert row['memory_measured_by'] in ('cpu live tensors', 'cuda peak') and row['merged_latency_ms'] > 0
    t = pm.cost_table(dec, ['bitfit', 'qlora'], sft, 'sft', tok, progress=False, steps=1)
    assert 'biases' in t.loc['bitfit', 'note'] and 'quantized_base' in t.loc['qlora', 'note']

@pytest.mark.parametrize('method', ['prompt_tuning', 'prefix_tuning', 'p_tuning'])
def test_soft_prompts_on_the_encoder(method):
    """Soft prompts on MiniLM (classification): the forward runs, the prompt changes the logits, gradients reach it.
    Regression: transformers 5.24 renamed the encoders' `past_key_values` to `cache` and PEFT's prefix tuning refused."""
    enc, etok = load_model(P.encoder, task='classification', num_labels=4), load_tokenizer(P.encoder)
    b = etok(['where is my parcel?', 'my card was charged twice'], return_tensors='pt', padding=True)
    with torch.no_grad(): plain = enc(**b).logits
    m = get_method(method).apply(copy.deepcopy(enc), 'classification')
    out = m(**b, labels=torch.tensor([1, 2])); out.loss.backward()
    prompt = [q for n, q in m.named_parameters() if q.requires_grad and 'prompt_encoder' in n]
    assert prompt and all(q.grad is not None and q.grad.abs().sum() > 0 for q in prompt)
    assert not torch.allclose(out.logits, plain, atol=1e-5)        # the virtual tokens take part in the forward
    m2 = copy.deepcopy(m)                                            # a copy runs on its own backbone
    torch.testing.assert_close(m2(**b).logits, out.logits.detach())
