"Fast tests of `lowres_ft.forgetting`: the probe, each mitigation through `fit`, and every merge (with its errors)."
import copy, warnings

import matplotlib
matplotlib.use('Agg')
import numpy as np
import pandas as pd
import pytest
import torch

from lowres_ft.forgetting import (EWC, L2SP, ForgettingProbe, LayerwiseLRDecay, add_adapters, at_equal_gain,
                                  check_mergeable, greedy_soup, half_finetuning, interpolate, layer_index, llrd,
                                  merge, merge_adapters, plot_forgetting_curves, plot_trajectories, slerp, soup)

KW = dict(objective='causal_lm', preset='tiny', progress=False, max_steps=4, learning_rate=1e-3)


@pytest.fixture(scope='module')
def tok(tiny_base):
    from lowres_ft.core import load_tokenizer
    return load_tokenizer('embedded:tiny')


@pytest.fixture(scope='module')
def base(tiny_base):
    from lowres_ft.core import load_model
    return load_model('embedded:tiny')


@pytest.fixture(scope='module')
def texts():
    from lowres_ft.data import domain_corpus
    return domain_corpus(48)


def _fit(base, tok, texts, method='full', **kw):
    from lowres_ft.train import fit
    return fit(copy.deepcopy(base), texts, method=method, tokenizer=tok, **{**KW, **kw})


def _same(a, b, eps=0.0):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    return all((sa[k] - sb[k]).abs().max().item() <= eps for k in sa)


def _perturbed(base, seed=0, scale=0.01):
    m = copy.deepcopy(base)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters(): p.add_(scale * torch.randn(p.shape, generator=g))
    return m


# ---------------------------------------------------------------- the probe

def test_probe_records_every_n_steps(base, tok, texts):
    from lowres_ft.data import general_probes
    gp = general_probes(8, 8)
    probe = ForgettingProbe(tok, texts[:8], gp['texts'], gp['qa'], every=2)
    _fit(base, tok, texts, callbacks=(probe,), max_steps=5)
    t = probe.trajectory('full')
    assert t['step'].tolist() == [0, 2, 4, 5]                  # start, every 2 steps, and the last step
    for c in ('run', 'general_loss', 'general_qa_acc', 'target_loss', 'target_gain', 'forgetting', 'qa_drop'):
        assert c in t.columns
    assert t['target_gain'].iloc[0] == 0 and t['forgetting'].iloc[0] == 0
    assert t['target_gain'].iloc[-1] > 0                        # the domain was learned
    plot_forgetting_curves(t); plot_trajectories(t)


def test_probe_baseline_and_several_targets(base, tok, texts):
    probe = ForgettingProbe(tok, {'a': texts[:4], 'b': texts[4:8]}, texts[8:12], qa=False, every=3)
    m = probe.measure(base)
    assert set(m) == {'general_loss', 'a_loss', 'b_loss'}
    probe2 = ForgettingProbe(tok, {'a': texts[:4], 'b': texts[4:8]}, texts[8:12], qa=False, every=3, baseline=m)
    _fit(base, tok, texts, callbacks=(probe2,), max_steps=3)
    t = probe2.trajectory()
    assert t['step'].tolist() == [0, 3] and t['a_loss'].iloc[0] == m['a_loss']
    assert {'a_gain', 'b_gain'} <= set(t.columns)


@pytest.mark.parametrize('bad,msg', [(dict(every=0), 'positive number of steps'), (dict(every=2.5), 'positive number'),
                                     (dict(target_texts={'x': []}), 'non-empty list'),
                                     (dict(target_texts={'x': 'one string'}), 'non-empty list')])
def test_probe_bad_input(tok, bad, msg):
    with pytest.raises(ValueError, match=msg): ForgettingProbe(tok, **{'target_texts': ['a b c'], 'general_texts': ['x y'], 'qa': False, **bad})


def test_at_equal_gain_interpolates():
    df = pd.DataFrame({'run': ['a'] * 3 + ['b'] * 3, 'step': [0, 10, 20] * 2, 'target_gain': [0, 1, 2, 0, 2, 4],
                       'forgetting': [0, 1, 3, 0, 0.5, 1.0]})
    eq = at_equal_gain(df)                                      # common gain: the smaller final gain, 2
    assert eq.set_index('run')['forgetting'].to_dict() == {'a': 3.0, 'b': 0.5}
    eq = at_equal_gain(df, gain=1.5)
    assert eq.set_index('run')['forgetting'].tolist() == [2.0, 0.375] and eq['step'].tolist() == [15.0, 7.5]
    assert np.isnan(at_equal_gain(df, gain=3).set_index('run').loc['a', 'forgetting'])


# ---------------------------------------------------------------- regularizers

@pytest.mark.parametrize('make', [lambda base, tok: L2SP(0), lambda base, tok: EWC.from_texts(copy.deepcopy(base), tok, ['a cat sat.', 'the sun is warm.'], weight=0)])
def test_zero_weight_is_plain_training(base, tok, texts, make):
    plain = _fit(base, tok, texts).model
    reg = _fit(base, tok, texts, regularizer=make(base, tok)).model
    assert _same(plain, reg, eps=1e-7)


def test_penalties_pull_toward_the_base(base, tok, texts):
    plain = _fit(base, tok, texts).model
    ewc = EWC.from_texts(copy.deepcopy(base), tok, ['a cat sat on the mat.', 'the sun is warm today.'], weight=50.0)
    dist = lambda m: sum(((p - q) ** 2).sum().item() for p, q in zip(m.parameters(), base.parameters()))
    for reg in (L2SP(50.0), ewc):
        r = _fit(base, tok, texts, regularizer=reg).model
        assert dist(r) < dist(plain), repr(reg)
    assert 'L2SP(weight=50' in repr(L2SP(50.0)) and 'EWC(weight=50' in repr(ewc)


def test_regularizer_bad_input(base, tok):
    for bad in (-1, float('nan')):
        with pytest.raises(ValueError, match='>= 0'): L2SP(bad)
    with pytest.raises(TypeError, match='number'): L2SP('0.1')
    with pytest.raises(ValueError, match='non-empty list'): EWC.from_texts(base, tok, [])
    with pytest.raises(ValueError, match='has no anchor'): L2SP(1.0, anchor={'nope': torch.zeros(1)})(copy.deepcopy(base))


# ---------------------------------------------------------------- LLRD and HFT

def test_llrd_groups_and_training(base, tok, texts):
    groups = llrd(0.5)(base, 1.0)
    assert [g['lr'] for g in groups] == [1.0, 0.5, 0.25, 0.125]
    assert sum(len(g['params']) for g in groups) == len(list(base.parameters()))
    assert layer_index('model.layers.2.mlp.up_proj.weight') == 2 and layer_index('lm_head.weight') is None
    plain = _fit(base, tok, texts).model
    assert _same(plain, _fit(base, tok, texts, param_groups=llrd(1.0)).model, eps=1e-7)   # decay 1 = plain training
    slow = _fit(base, tok, texts, param_groups=llrd(0.3)).model
    moved = lambda m: (m.model.embed_tokens.weight - base.model.embed_tokens.weight).abs().mean().item()
    assert moved(slow) < moved(plain)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match=r'\(0, 1\]'): LayerwiseLRDecay(bad)


def test_hft_freezes_half_and_trains_the_rest(base, tok, texts):
    from lowres_ft.train import get_method
    assert get_method('hft').apply is half_finetuning
    r = _fit(base, tok, texts, method='hft')
    m = r.model
    frozen = [n for n, p in m.named_parameters() if not p.requires_grad]
    trained = [n for n, p in m.named_parameters() if p.requires_grad]
    blocks = [(n, p) for n, p in m.named_parameters() if layer_index(n) is not None]
    frac = sum(p.numel() for n, p in blocks if p.requires_grad) / sum(p.numel() for _, p in blocks)
    assert 0.35 < frac < 0.65
    b = dict(base.named_parameters())
    assert all(torch.equal(dict(m.named_parameters())[n], b[n]) for n in frozen)
    assert any(not torch.equal(dict(m.named_parameters())[n], b[n]) for n in trained)
    other = half_finetuning(copy.deepcopy(base), seed=1)
    assert [p.requires_grad for p in other.parameters()] != [p.requires_grad for p in m.parameters()]   # seed picks the half
    with pytest.raises(ValueError, match="'matrices' or 'layers'"): half_finetuning(copy.deepcopy(base), strategy='x')
    with pytest.raises(TypeError, match='takes strategy'): half_finetuning(copy.deepcopy(base), r=8)


# ---------------------------------------------------------------- merging full models

def test_interpolation_end_points_are_exact(base):
    ft = _perturbed(base)
    assert _same(interpolate(base, ft, 0.0), base) and _same(interpolate(base, ft, 1.0), ft)
    assert _same(slerp(base, ft, 0.0), base) and _same(slerp(base, ft, 1.0), ft)
    mid = interpolate(base, ft, 0.5)
    w = lambda m: m.model.layers[0].self_attn.q_proj.weight
    assert torch.allclose(w(mid), (w(base) + w(ft)) / 2, atol=1e-6)
    s = slerp(base, ft, 0.5)
    cos = torch.nn.functional.cosine_similarity(w(s).flatten(), w(mid).flatten(), dim=0).item()
    assert cos > 0.9999 and w(s).norm() > w(mid).norm()              # same direction as the chord, longer: on the arc
    sd = interpolate(base.state_dict(), ft.state_dict(), 0.25)       # state dicts in, state dict out
    assert isinstance(sd, dict) and sd.keys() == base.state_dict().keys()


def test_incompatible_merges_fail_clearly(base):
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM
    wider = LlamaForCausalLM(LlamaConfig(**{**base.config.to_dict(), 'hidden_size': 128, 'head_dim': 32}))
    other = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=64, bos_token_id=0, eos_token_id=0))
    with pytest.raises(ValueError, match='different sizes'): interpolate(base, wider)
    with pytest.raises(ValueError, match='different architectures'): slerp(base, other)
    with pytest.raises(ValueError, match='different architectures'): merge(base, [other])
    with pytest.raises(ValueError, match='different parameters'): soup([base.state_dict(), {'x': torch.zeros(1)}])
    with pytest.raises(TypeError, match='torch model or a state dict'): interpolate(base, 'model.safetensors')
    with pytest.raises(ValueError, match='at least two'): check_mergeable(base)
    with pytest.raises(ValueError, match=r'\[0, 1\]'): slerp(base, base, 2.0)
    with pytest.raises(TypeError, match='number'): interpolate(base, base, '0.5')
    with pytest.raises(ValueError, match='Unknown merge method'): merge(base, [base], 'avg')
    with pytest.raises(ValueError, match='weights'): merge(base, [base, base], weights=[1.0])
    with pytest.raises(ValueError, match=r'density must be in'): merge(base, [base], 'ties', density=0)


def test_ties_dare_and_soups(base):
    ft1, ft2 = _perturbed(base, 1), _perturbed(base, 2)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for meth in ('task_arithmetic', 'ties', 'dare_linear', 'dare_ties', 'magnitude_prune'):
            assert _same(merge(base, [ft1], meth, density=1.0), ft1, eps=1e-6), meth
    w = lambda m: m.model.layers[1].mlp.down_proj.weight
    tv = w(merge(base, [ft1, ft2], 'ties', density=0.1)) - w(base)
    assert 0 < (tv != 0).float().mean().item() < 0.3                  # trimmed
    # disjoint merge: where both task vectors agree in sign and survive trimming, TIES averages them
    ta = w(merge(base, [ft1, ft2], 'task_arithmetic', weights=[0.5, 0.5]))
    assert torch.allclose(ta, (w(ft1) + w(ft2)) / 2, atol=1e-6)
    a, b = merge(base, [ft1, ft2], 'dare_ties', seed=3), merge(base, [ft1, ft2], 'dare_ties', seed=3)
    assert _same(a, b) and not _same(a, merge(base, [ft1, ft2], 'dare_ties', seed=4))
    s = soup([ft1, ft2])
    assert torch.allclose(w(s), (w(ft1) + w(ft2)) / 2, atol=1e-6)
    assert _same(soup([base, ft1], weights=[1, 0]), base)
    with pytest.raises(ValueError, match='positive weight'): soup([base, ft1], weights=[0, 0])
    score = lambda m: -(w(m) - w(base)).abs().mean().item()          # prefers models near the base
    best, kept = greedy_soup([ft1, base, ft2], score)
    assert kept[0] == 1 and _same(soup([[ft1, base, ft2][i] for i in kept]), best)


# ---------------------------------------------------------------- merging LoRA adapters

@pytest.fixture(scope='module')
def adapters(base, tok, texts):
    from lowres_ft.data import lowres_language
    a = _fit(base, tok, texts, method='lora', max_steps=3, learning_rate=3e-3).model
    b = _fit(base, tok, lowres_language(48), method='lora', max_steps=3, learning_rate=3e-3).model
    c = _fit(base, tok, texts, method='lora', max_steps=1, method_kwargs={'r': 4}).model
    return a, b, c


def test_lora_adapter_merging(adapters, tok, texts):
    from lowres_ft.evaluate import perplexity
    a, b, c = adapters
    pm = add_adapters(a, {'kelo': b})
    assert list(pm.peft_config) == ['default', 'kelo']
    ppl = {}
    for ad in ('default', 'kelo'):
        pm.set_adapter(ad); ppl[ad] = perplexity(pm, tok, texts[:4])
    assert ppl['default'] != ppl['kelo']                             # the copied adapter is really there
    for ct in ('linear', 'cat', 'ties', 'dare_ties'):
        merge_adapters(pm, ['default', 'kelo'], combination_type=ct, density=0.5)
        assert pm.active_adapter == ct and np.isfinite(perplexity(pm, tok, texts[:4]))
    with pytest.raises(ValueError, match='unknown adapter'): merge_adapters(pm, ['default', 'nope'])
    with pytest.raises(ValueError, match='already has an adapter'): add_adapters(pm, {'kelo': b})
    with pytest.raises(TypeError, match='needs a PeftModel'): add_adapters(pm.get_base_model(), {'x': b})
    with pytest.raises(TypeError, match='merge_and_unload'): interpolate(pm, pm)
    add_adapters(pm, {'r4': c})                                      # a different rank: 'ties' cannot, 'cat' can
    with pytest.raises(ValueError, match="combination_type='cat'"): merge_adapters(pm, ['default', 'r4'], combination_type='ties', name='bad')
    merge_adapters(pm, ['default', 'r4'], combination_type='cat', name='ok')
    assert pm.active_adapter == 'ok'
