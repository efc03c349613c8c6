"Continued pretraining and vocabulary adaptation (lowres_ft.cpt): bad inputs, each path trains, save/load."
import pytest, torch
from lowres_ft.core import use_preset, load_model, load_tokenizer
from lowres_ft.data import lowres_language, domain_corpus, general_corpus, classification_task
from lowres_ft.train import get_method, fit
from lowres_ft.cpt import (fertility, bytes_per_token, tokenizer_stats, relevance_filter, relevance_scores, NgramLM,
                           cpt_data, continued_pretraining, train_new_tokens, extend_tokenizer, save_extended,
                           load_extended, transfer_encoder)

KELO = lowres_language(120)

@pytest.fixture(scope='module')
def tok(tiny_base):
    use_preset('tiny'); return load_tokenizer('embedded:tiny')

@pytest.fixture(scope='module')
def new_tokens(tok): return train_new_tokens(KELO[:100], 24, tokenizer=tok)

def extended(new_tokens, init='mean'):
    return extend_tokenizer(load_tokenizer('embedded:tiny'), load_model('embedded:tiny'), new_tokens, init=init)

# --- bad inputs ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('ratio', [-0.1, 1.0, 1.5, 'a lot', True])
def test_replay_ratio_outside_range(ratio):
    with pytest.raises(ValueError, match=r'replay must be a number in \[0, 1\)'): cpt_data(['a b'], ['c d'], replay=ratio)

def test_empty_target_and_missing_general():
    with pytest.raises(ValueError, match='target is empty'): cpt_data([], ['g'], replay=0.1)
    with pytest.raises(ValueError, match='target is empty'): cpt_data(['  ', ''], None)
    with pytest.raises(ValueError, match='needs general text'): cpt_data(['a'], None, replay=0.2)
    with pytest.raises(ValueError, match='warmup must be'): continued_pretraining('embedded:tiny', ['a b'], warmup=-2)
    with pytest.raises(ValueError, match="not 'dpo'"): continued_pretraining('embedded:tiny', ['a b'], objective='dpo')

def test_tokenizer_stats_bad_input(tok):
    with pytest.raises(ValueError, match='is empty'): fertility(tok, [])
    with pytest.raises(TypeError, match='list of strings'): bytes_per_token(tok, 'just one string')

def test_new_tokens_bad_input(tok, new_tokens):
    with pytest.raises(ValueError, match='is empty'): train_new_tokens([], 5)
    with pytest.raises(ValueError, match='positive int'): train_new_tokens(KELO, 0)
    t, m = load_tokenizer('embedded:tiny'), load_model('embedded:tiny')
    with pytest.raises(ValueError, match='already in the vocabulary'): extend_tokenizer(t, m, [' the', new_tokens[0]])
    with pytest.raises(ValueError, match='new_tokens is empty'): extend_tokenizer(t, m, [])
    with pytest.raises(ValueError, match='duplicates'): extend_tokenizer(t, m, [new_tokens[0]] * 2)
    with pytest.raises(ValueError, match="'mean' or 'random'"): extend_tokenizer(t, m, new_tokens, init='zeros')
    with pytest.raises(TypeError, match='list of strings'): extend_tokenizer(t, m, new_tokens[0])
    assert len(t) == len(tok)                      # failed calls did not touch the tokenizer

def test_relevance_bad_input():
    with pytest.raises(ValueError, match='in_domain is empty'): relevance_filter(['x y'], [], ['g'])
    with pytest.raises(ValueError, match='general is empty'): relevance_scores(['x y'], ['d'], [])
    with pytest.raises(ValueError, match='positive int'): NgramLM(['abc'], n=0)

def test_load_extended_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match='is not a folder'): load_extended(tmp_path/'nope')

def test_lora_new_tokens_needs_ids(tok):
    with pytest.raises(ValueError, match='needs token_ids'):
        fit(load_model('embedded:tiny'), ['a b c'], 'causal_lm', 'lora_new_tokens', tokenizer=tok, progress=False)
    with pytest.raises(ValueError, match='outside the embedding'):
        fit(load_model('embedded:tiny'), ['a b c'], 'causal_lm', 'lora_new_tokens', tokenizer=tok, progress=False,
            method_kwargs={'token_ids': [10**6]})

# --- what works ---------------------------------------------------------------------------------------------------
def test_relevance_filter_separates_domain():
    dom, gen = domain_corpus(260)[200:], general_corpus(1000)[900:960]
    kept = relevance_filter(dom + gen, domain_corpus(40), general_corpus(100), verbose=False)
    assert set(kept) == set(dom)

def test_fertility_drops_and_mean_init(tok, new_tokens):
    t, m, ids = extended(new_tokens)
    assert fertility(t, KELO[100:]) < fertility(tok, KELO[100:])
    assert tokenizer_stats(t, KELO[100:])['bytes_per_token'] > bytes_per_token(tok, KELO[100:])
    old = load_model('embedded:tiny').get_input_embeddings().weight
    for tkn, i in zip(new_tokens[:5], ids):
        sub = tok(tkn, add_special_tokens=False)['input_ids']
        assert torch.allclose(m.get_input_embeddings().weight[i], old[sub].mean(0))
    assert m.get_output_embeddings().weight is m.get_input_embeddings().weight   # tying kept
    assert t.decode(t(KELO[0], add_special_tokens=False)['input_ids']) == KELO[0]
    _, mr, _ = extended(new_tokens, init='random')
    assert not torch.allclose(mr.get_input_embeddings().weight[ids], m.get_input_embeddings().weight[ids])

def test_causal_cpt_with_replay_and_rewarming(tok):
    res = continued_pretraining('embedded:tiny', domain_corpus(80), general_corpus(80), replay=0.25, tokenizer=tok,
                                preset='tiny', max_steps=6, warmup=2, lr=2e-3, logging_steps=1, progress=False)
    args = res.trainer.args
    assert args.warmup_steps == 2 and args.learning_rate == 2e-3 and getattr(args.lr_scheduler_type, 'value', args.lr_scheduler_type) == 'cosine'
    lrs = res.history['learning_rate'].dropna().tolist()
    assert lrs[0] < lrs[1]                        # the learning rate is re-warmed from ~0
    assert len(res.history['loss'].dropna()) == 6

def test_masked_lm_cpt_and_transfer():
    enc_tok = load_tokenizer('embedded:encoder')
    texts = classification_task(n_train=40, n_dev=8, n_test=8)['train']['text']
    mlm = continued_pretraining(load_model('embedded:encoder', task='masked_lm'), texts, objective='masked_lm',
                                tokenizer=enc_tok, preset='tiny', lr=1e-4, max_steps=2, max_length=16, logging_steps=1, progress=False)
    assert res_ok(mlm)
    clf = load_model('embedded:encoder', task='classification', num_labels=4)
    before = clf.base_model.embeddings.word_embeddings.weight.clone()
    transfer_encoder(mlm.model, clf)
    assert torch.equal(clf.base_model.embeddings.word_embeddings.weight, mlm.model.base_model.embeddings.word_embeddings.weight)
    assert not torch.equal(before, clf.base_model.embeddings.word_embeddings.weight)
    with pytest.raises(TypeError, match='backbones differ'): transfer_encoder(load_model('embedded:tiny'), clf)

def res_ok(res): return res.trainer.state.global_step == 2 and res.history['loss'].notna().any()

def test_extended_model_save_reload(tmp_path, new_tokens):
    t, m, ids = extended(new_tokens)
    m2, t2 = load_extended(save_extended(m, t, tmp_path/'ext'))
    assert len(t2) == len(t) and t2.tokenize(new_tokens[0]) == [new_tokens[0]]
    assert torch.allclose(m2.get_input_embeddings().weight[ids], m.get_input_embeddings().weight[ids])
    assert m2.get_output_embeddings().weight is m2.get_input_embeddings().weight

def test_lora_adapter_keeps_new_tokens(tmp_path, new_tokens):
    assert get_method('lora_new_tokens').name == 'lora_new_tokens'      # found through the registry
    t, m, ids = extended(new_tokens)
    init = m.get_input_embeddings().weight[ids].detach().clone()
    res = fit(m, KELO[:60], 'causal_lm', 'lora_new_tokens', tokenizer=t, preset='tiny', max_steps=4,
              method_kwargs={'token_ids': ids}, progress=False)
    x = t(KELO[100:102], return_tensors='pt', padding=True)
    with torch.no_grad(): before = res.model.eval()(**x).logits
    m2, t2 = load_extended(save_extended(res.model, t, tmp_path/'lora'), base='embedded:tiny')
    with torch.no_grad(): after = m2.eval()(**x).logits
    assert t2.tokenize(new_tokens[1]) == [new_tokens[1]]
    assert torch.allclose(before, after, atol=1e-5)
    rows = m2.merge_and_unload().get_input_embeddings().weight[ids]
    assert not torch.allclose(rows, init)                               # the trained rows are the ones reloaded
