"The practical guide: recommend() case by case against SURVEY.md §3, estimate(), measure() and the text wizard."
import pytest
from lowres_ft.guide import (recommend, estimate, measure, model_config, meta_model, trainable_parameters,
                             memory_bars, text_bars, wizard, colab_check, PeakTensorMemory, COLAB_RUNS, GPUS)

def top(**kw): return recommend(**kw).technique[0]
def techniques(**kw): return ' | '.join(recommend(**kw).technique)
def alignment(**kw):
    df = recommend(**{'n_labels': 2000, 'task_type': 'generation', **kw})
    return df[df.section.str.startswith('§6')].technique.iloc[0]

# SURVEY.md §3, one row per case: (kwargs, substring of the top technique)
TABLE_ROWS = [
    (dict(n_labels=16), 'SetFit'),                                          # discriminative < 250
    (dict(n_labels=249), 'PET'),
    (dict(n_labels=250), 'UniPELT in NLI format'),                          # < 1k
    (dict(n_labels=999), 'Prefix tuning'),
    (dict(n_labels=1000), 'LoRA + LLRD + active learning'),                 # < 10k
    (dict(n_labels=10_000), 'Full fine-tuning'),                            # 10k+
    (dict(n_labels=100, task_type='sequence_labeling'), 'PET or QA format + contrastive'),
    (dict(n_labels=4999, task_type='sequence_labeling'), 'Adapters'),
    (dict(n_labels=5000, task_type='sequence_labeling'), 'Full fine-tuning'),
    (dict(n_labels=200, task_type='generation'), 'ICL first'),              # ~100s
    (dict(n_labels=5000, task_type='generation'), 'LoRA/QLoRA SFT + data selection'),  # 1k-100k
    (dict(n_labels=1_000_000, task_type='generation'), 'Full fine-tuning'),  # full FT pays off at 100k-1M+
]

@pytest.mark.parametrize('kw,expected', TABLE_ROWS)
def test_task_rows(kw, expected):
    assert expected in top(**kw)

def test_every_row_has_reason_section_and_chapter():
    df = recommend(300, unlabelled_tokens=10**6, task_type='generation', language_resource='low', gpu_memory_gb=8,
                   keep_general=True, feedback='binary', latency_critical=True)
    assert list(df.columns) == ['rank', 'priority', 'technique', 'reason', 'section', 'chapter']
    assert df['rank'].tolist() == list(range(1, len(df)+1)) and df.priority.is_monotonic_decreasing
    assert df.section.str.contains('§|Table').all() and df.chapter.notna().all() and (df.reason.str.len() > 10).all()

@pytest.mark.parametrize('task,tokens,fires', [('classification', 75_000, True), ('classification', 74_999, False),
                                               ('sequence_labeling', 25_000, True), ('sequence_labeling', 20_000, False),
                                               ('generation', 100_000, True)])
def test_cpt_threshold(task, tokens, fires):
    assert ('Continued pretraining' in techniques(n_labels=100, unlabelled_tokens=tokens, task_type=task)) == fires

def test_cpt_for_decoders_adds_replay():
    df = recommend(500, unlabelled_tokens=10**6, task_type='generation')
    assert 'replay' in df[df.chapter == '10_continued_pretraining'].reason.iloc[0]

@pytest.mark.parametrize('kw,expected', [
    (dict(feedback='none'), 'SPIN'), (dict(feedback='binary'), 'KTO'),
    (dict(feedback='pairs', n_pairs=20_000, gpu_memory_gb=80), 'DPO'),
    (dict(feedback='pairs', n_pairs=5_000, gpu_memory_gb=16), 'ORPO or SimPO'),
    (dict(feedback='pairs', n_pairs=5_000, gpu_memory_gb=80), 'DPO'),
    (dict(feedback='pairs', n_pairs=150_000, gpu_memory_gb=80), 'RLHF')])
def test_feedback_rows(kw, expected):
    assert expected in alignment(**kw)

def test_memory_latency_general_and_language_rows():
    assert '4-bit larger model + LoRA' in techniques(n_labels=5000, gpu_memory_gb=12)
    assert '4-bit' not in techniques(n_labels=5000, gpu_memory_gb=80)
    assert 'merged into the weights' in techniques(n_labels=5000, latency_critical=True)
    assert 'replay' in techniques(n_labels=5000, keep_general=True)
    small = recommend(5000, language_resource='low', model_params_b=0.5)
    big = recommend(5000, language_resource='low', model_params_b=7)
    assert 'helps little below ~2B' in small.reason[small.technique.str.contains('Vocabulary')].iloc[0]
    assert 'merge CPT and SFT' in big.reason[big.technique.str.contains('Vocabulary')].iloc[0]
    assert 'encoder' in techniques(n_labels=100)             # encoders win on discriminative tasks with little data (§7)
    assert 'feedback' not in ' '.join(recommend(100).section)  # no alignment row for classification without feedback

@pytest.mark.parametrize('kw,msg', [(dict(n_labels=-1), 'must be a number >= 0'), (dict(n_labels=10, task_type='qa'), 'task_type'),
                                    (dict(n_labels=10, feedback='stars'), 'feedback'), (dict(n_labels=10, feedback='pairs'), 'needs n_pairs > 0'),
                                    (dict(n_labels=10, language_resource='medium'), 'language_resource'),
                                    (dict(n_labels='many'), 'must be a number')])
def test_recommend_bad_inputs(kw, msg):
    with pytest.raises(ValueError, match=msg): recommend(**kw)

# ---- estimate ----

def test_parameter_counts_match_known_models():
    assert abs(trainable_parameters(meta_model(model_config('HuggingFaceTB/SmolLM2-135M-Instruct')), 'full')[0] - 134.5e6) < 0.1e6
    assert abs(trainable_parameters(meta_model(model_config('Qwen/Qwen2.5-0.5B-Instruct')), 'full')[0] - 494e6) < 1e6
    cfg = model_config('sentence-transformers/all-MiniLM-L6-v2')
    assert abs(trainable_parameters(meta_model(cfg, 'classification', 4), 'full')[0] - 22.71e6) < 0.01e6

def test_estimate_orders_methods_and_shapes():
    full, lora, qlora = (estimate(method=m) for m in ('full', 'lora', 'qlora'))
    assert full['total_gib'] > lora['total_gib'] > qlora['total_gib']
    assert lora['trainable_pct'] < 5 and full['trainable_pct'] == 100
    assert estimate(seq_len=1024)['activations_gib'] > 1.9*estimate(seq_len=512)['activations_gib']
    assert estimate(objective='dpo')['activations_gib'] > 1.9*estimate(objective='sft')['activations_gib']  # chosen + rejected
    assert estimate(method='full', objective='dpo')['reference_gib'] > 0 and estimate(method='lora', objective='dpo')['reference_gib'] == 0
    assert estimate(gradient_checkpointing=True)['activations_gib'] < estimate()['activations_gib']
    assert estimate(precision='fp32')['total_gib'] > estimate(precision='fp16')['total_gib']
    assert not estimate('HuggingFaceTB/SmolLM2-360M-Instruct', 'full', seq_len=4096, batch=16)['fits']
    assert estimate('colab')['params_M'] == estimate('HuggingFaceTB/SmolLM2-135M-Instruct')['params_M']

@pytest.mark.parametrize('kw,err,msg', [(dict(method='magic'), ValueError, 'method'), (dict(precision='fp8'), ValueError, 'precision'),
                                        (dict(method='full', quantize='4bit'), ValueError, 'cannot train quantized'),
                                        (dict(batch=0), ValueError, 'positive integer'), (dict(gpu='V100'), ValueError, 'gpu'),
                                        (dict(model='nobody/unknown-7b'), ValueError, 'pass its transformers config'),
                                        (dict(model=3.5), TypeError, 'must be a name'), (dict(objective='rlhf'), ValueError, 'objective')])
def test_estimate_bad_inputs(kw, err, msg):
    with pytest.raises(err, match=msg): estimate(**kw)

def test_peak_tensor_memory_tracks_live_and_peak():
    import torch
    with PeakTensorMemory() as pm:
        a = torch.zeros(256, 1024); b = a + 1; c = a + 2; del b
    assert pm.peak == 3*2**20 and pm.live == 2*2**20

def test_measure_is_close_to_estimate(tiny_base):
    "A real tiny run on CPU: measured peak live-tensor memory within a factor 2 of the prediction."
    m = measure('embedded:tiny', 'full', 'causal_lm', seq_len=32, batch=4, steps=3)
    e = estimate('embedded:tiny', 'full', 'causal_lm', seq_len=32, batch=4, precision='fp32')
    assert 0.5 < m['measured_peak_gib']/e['total_gib'] < 2, (m, e['total_gib'])
    assert m['measured_time_per_step_s'] > 0
    with pytest.raises(ValueError, match='>= 2'): measure(steps=1)

def test_every_colab_configuration_fits_a_t4():
    cc = colab_check()
    assert set(COLAB_RUNS) <= set(cc.chapter) and cc.fits.all(), cc[~cc.fits]
    assert (cc.total_gib <= GPUS['T4']['memory_gib']).all()

def test_text_wizard_and_bars(capsys):
    recs, mb = wizard(interactive=False, n_labels=50)
    out = capsys.readouterr().out
    assert 'SetFit' in out and 'GiB' in out and '|' in out and len(mb) == 4
    assert text_bars(memory_bars(methods=('full',))).count('\n') == 0
