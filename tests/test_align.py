"Preference objectives (lowres_ft.align): each trains a few steps and moves the reward margin the right way; bad data fails clearly."
import copy, warnings
import pytest, torch
from lowres_ft import core, data as D
from lowres_ft.train import fit, get_objective
import lowres_ft.align as A

warnings.filterwarnings('ignore')

@pytest.fixture(scope='module')
def tok(): return core.load_tokenizer('embedded:tiny')

@pytest.fixture(scope='module')
def base():
    core.use_preset('tiny')
    return A.merge_sft(core.load_model('embedded:tiny'))

@pytest.fixture(scope='module')
def pairs(): return D.preference_pairs(16, kinds=['first_letter', 'add'])

def _train(base, tok, data, objective, steps=8, **kw):
    # one full batch every step, so the logged margins of successive steps are measured on the same examples
    return fit(copy.deepcopy(base), data, objective, tokenizer=tok, max_steps=steps, logging_steps=1, learning_rate=1e-2,
               per_device_train_batch_size=len(data), progress=False, **kw)

@pytest.mark.parametrize('objective', ['dpo', 'orpo', 'simpo'])
def test_paired_objective_moves_margin(base, tok, pairs, objective):
    h = _train(base, tok, pairs, objective).history
    m = h['rewards/margins'].dropna()
    assert m.iloc[-1] > m.iloc[0] and m.iloc[-1] > 0, f"{objective}: margin {m.iloc[0]:.3f} -> {m.iloc[-1]:.3f}"
    assert h['rewards/accuracies'].dropna().iloc[-1] >= 0.5

def test_kto_moves_margin(base, tok, pairs):
    h = _train(base, tok, D.to_kto(pairs), 'kto').history
    m = h['rewards/margins'].dropna()
    assert m.iloc[-1] > m.iloc[0] and m.iloc[-1] > 0, f"kto: margin {m.iloc[0]:.3f} -> {m.iloc[-1]:.3f}"

def test_dpo_nll_term_and_plain(base, tok, pairs):
    r = _train(base, tok, pairs, 'dpo', steps=1)
    assert list(r.trainer.args.loss_type) == ['sigmoid', 'sft'] and list(r.trainer.args.loss_weights) == [1.0, 0.2]
    r = _train(base, tok, pairs, 'dpo', steps=1, nll_weight=0)
    assert list(r.trainer.args.loss_type) == ['sigmoid']

def test_simpo_settings(base, tok, pairs):
    a = _train(base, tok, pairs, 'simpo', steps=1).trainer.args
    assert (a.loss_type, a.cpo_alpha) == ('simpo', 0.0)

def test_full_finetuning_precomputes_reference(base, tok, pairs):
    r = _train(base, tok, pairs, 'dpo', method='full', steps=2)
    assert r.trainer.args.precompute_ref_log_probs and r.trainer.ref_model is None

def test_lora_policy_drifts_from_sft(base, tok, pairs):
    r = _train(base, tok, pairs, 'dpo', steps=4)
    texts = D.general_probes(n_texts=4)['texts']
    assert A.kl_drift(r.model, tok, texts) > 0
    assert abs(A.kl_drift(r.model, tok, texts) - A.kl_drift(r.model, tok, texts, ref=base)) < 1e-5

@pytest.mark.parametrize('objective', ['dpo', 'orpo', 'simpo'])
def test_missing_rejected(base, tok, objective):
    with pytest.raises(ValueError, match='rejected'):
        fit(copy.deepcopy(base), [{'prompt': 'Add 1 and 2.', 'chosen': '3'}], objective, tokenizer=tok, max_steps=1, progress=False)

def test_missing_chosen(base, tok):
    with pytest.raises(ValueError, match='chosen'):
        fit(copy.deepcopy(base), [{'prompt': 'Add 1 and 2.', 'rejected': '4'}], 'dpo', tokenizer=tok, max_steps=1, progress=False)

def test_identical_pair(base, tok):
    with pytest.raises(ValueError, match='the same'):
        fit(copy.deepcopy(base), [{'prompt': 'Add 1 and 2.', 'chosen': '3', 'rejected': ' 3'}], 'dpo', tokenizer=tok, max_steps=1, progress=False)

def test_empty_prompt(base, tok):
    with pytest.raises(ValueError, match='prompt'):
        fit(copy.deepcopy(base), [{'prompt': '  ', 'chosen': '3', 'rejected': '4'}], 'orpo', tokenizer=tok, max_steps=1, progress=False)

def test_kto_bad_inputs(base, tok):
    with pytest.raises(ValueError, match='undesirable'):
        fit(copy.deepcopy(base), [{'prompt': 'Add 1 and 2.', 'completion': '3', 'label': True}] * 2, 'kto', tokenizer=tok, max_steps=1, progress=False)
    with pytest.raises(ValueError, match='prompt is empty'):
        A.unpaired_data([{'prompt': '', 'completion': '3', 'label': True}, {'prompt': 'x', 'completion': '4', 'label': False}])
    with pytest.raises(ValueError, match='needs columns'):
        fit(copy.deepcopy(base), [{'prompt': 'Add 1 and 2.', 'completion': '3'}], 'kto', tokenizer=tok, max_steps=1, progress=False)

def test_synthetic_feedback():
    sc = A.score_samples(['What is 2 + 2?', 'What is 3 + 3?'], [['4', 'It might be 5 or so', '5'], ['6', '6']])
    pairs = A.best_vs_worst(sc)
    assert pairs['chosen'] == ['4'] and len(pairs) == 1
    fb = A.binary_feedback(sc, threshold=0.5)
    assert fb['label'] == [True, False, False, True]
    flipped = A.flip_labels(D.preference_pairs(10), 0.3, seed=1)
    assert sum(a != b for a, b in zip(flipped['chosen'], D.preference_pairs(10)['chosen'])) == 3
    assert A.win_rate(['What is 2 + 2?'] * 2, ['4', '5'], ['5', '5']) == 0.75

def test_objectives_registered():
    for name in ('dpo', 'orpo', 'simpo', 'kto'): assert get_objective(name).task == 'causal_lm'
