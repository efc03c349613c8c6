"Fast tests for lowres_ft.fewshot: bad inputs, and each method trains a few steps."
import numpy as np
import pytest

from lowres_ft.core import use_preset, load_model, load_tokenizer
from lowres_ft.data import classification_task, kshot, CLASS_LABELS
from lowres_ft import fewshot as fs


@pytest.fixture(scope='module')
def task():
    use_preset('tiny')
    return classification_task(n_train=40, n_dev=8, n_test=16)


@pytest.fixture(scope='module')
def k2(task): return kshot(task['train'], 2, seed=0)


# ---- bad inputs -------------------------------------------------------------------------------------------
def test_k_larger_than_class_errors(task):
    with pytest.raises(ValueError, match='fewer than k=50'): kshot(task['train'], 50)


def test_verbalizer_missing_label_errors(k2):
    with pytest.raises(ValueError, match="misses label\\(s\\) 'account'"): fs.make_verbalizer(CLASS_LABELS, CLASS_LABELS[:3])
    with pytest.raises(ValueError, match='misses label id'): fs.verbalize(k2, {0: 'billing', 1: 'shipping'})
    with pytest.raises(ValueError, match='share the word'): fs.make_verbalizer(['a', 'b'], ['x', 'X'])
    with pytest.raises(ValueError, match="no '\\{text\\}' slot"): fs.render('Topic:', 'hi')


def test_empty_unlabelled_pool_errors():
    X, y = np.eye(4, 8), [0, 1, 2, 3]
    with pytest.raises(ValueError, match='unlabelled pool is empty'): fs.self_train(X, y, np.zeros((0, 8)))
    with pytest.raises(ValueError, match='pool is empty'): fs.active_learning(np.zeros((0, 8)), [], X, y)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match='Unknown strategy'): fs.select_demos('best', 2, [0, 1, 2])
    with pytest.raises(ValueError, match='query_emb'): fs.select_demos('nearest', 2, [0, 1, 2], np.eye(3))
    with pytest.raises(ValueError, match='pool has 3'): fs.select_demos('random', 5, [0, 1, 2])
    with pytest.raises(ValueError, match='between 1 and'): fs.diverse_subset(np.eye(3), 4)
    with pytest.raises(ValueError, match='Unknown kind'): fs.uncertainty([[0.5, 0.5]], 'gini')
    with pytest.raises(ValueError, match='at least 2 classes'): fs.fit_logreg(np.eye(3), [1, 1, 1])
    with pytest.raises(ValueError, match='rate must be'): fs.add_label_noise([0, 1], 1.5, 2)
    with pytest.raises(ValueError, match='empty'): fs.embed_texts([])
    with pytest.raises(TypeError, match='not one string'): fs.embed_texts('hello')


# ---- selection, augmentation, limited supervision (no training) -----------------------------------------
def test_select_demos_strategies():
    labels = [0, 0, 1, 1, 2, 2]
    E = np.eye(6)
    assert sorted(labels[i] for i in fs.select_demos('per_class', 3, labels, seed=1)) == [0, 1, 2]
    assert fs.select_demos('nearest', 2, labels, E, E[4])[-1] == 4
    assert len(set(fs.select_demos('diverse', 3, labels, E))) == 3
    assert fs.select_demos('random', 3, labels, seed=0) == fs.select_demos('random', 3, labels, seed=0)


def test_icl_prompt_fits_context():
    tok = load_tokenizer('embedded:tiny')
    demos = [('my card was charged twice', 0)] * 20
    v = fs.make_verbalizer(CLASS_LABELS)
    prompt, kept = fs.icl_prompt('where is my parcel', demos, v, tokenizer=tok, max_tokens=120)
    assert 0 < kept < 20 and len(tok(prompt)['input_ids']) <= 120 and prompt.endswith('Topic:')


def test_augment_and_noise(k2):
    assert fs.augment('hello there', p_swap=0, p_drop=0) == ['hello there']
    assert len(fs.augment_dataset(k2, n=2)) == 3 * len(k2)
    y = fs.add_label_noise([0, 1, 2, 3] * 5, 0.5, 4, seed=0)
    assert (y != np.array([0, 1, 2, 3] * 5)).sum() == 10


def test_self_training_and_active_learning():
    rng = np.random.default_rng(0)
    centers = np.eye(4, 16) * 4
    X = np.concatenate([centers[c] + rng.normal(0, 0.5, (30, 16)) for c in range(4)]); y = np.repeat(np.arange(4), 30)
    lab = np.array([0, 30, 60, 90])
    model, hist = fs.self_train(X[lab], y[lab], X, y_unlab=y)
    assert len(hist) >= 1 and hist.pseudo_label_accuracy.iloc[-1] > 0.9
    for s in fs.AL_STRATEGIES:
        curve = fs.active_learning(X, y, X, y, budget=12, step=4, strategy=s, seed=0)
        assert curve.n.tolist() == [4, 8, 12] and curve.accuracy.iloc[-1] > 0.5
    np.testing.assert_allclose(fs.uncertainty([[0.5, 0.5], [1.0, 0.0]]), [1.0, 0.0])


# ---- each method trains a few steps ---------------------------------------------------------------------
def test_icl_and_prompt_finetune(task, k2):
    tok, dec = load_tokenizer('embedded:tiny'), load_model('embedded:tiny')
    v = fs.make_verbalizer(CLASS_LABELS)
    texts = task['test']['text'][:4]
    for s in ('random', 'per_class'):
        r = fs.icl_predict(dec, tok, k2, texts, v, s, n_demos=2)
        assert len(r.preds) == 4 and r.scores.shape == (4, 4) and all(0 < n <= 2 for n in r.n_demos)
    before = [p.detach().clone() for p in dec.parameters()]
    res = fs.prompt_finetune(dec, tok, k2, v, max_steps=2, progress=False)
    assert res.model is not dec and all((a == b).all() for a, b in zip(before, dec.parameters()))
    preds = fs.label_word_predict(res.model, tok, texts, v)
    assert len(preds) == 4 and set(preds) <= set(range(4))


def test_head_finetune_and_setfit(task, k2):
    res = fs.head_finetune(k2, max_steps=1, learning_rate=1e-4, progress=False)
    assert res.trainer.state.global_step == 1
    sf = fs.setfit_fit(k2, max_steps=1, batch_size=4)
    assert len(sf.predict(task['test']['text'][:3])) == 3


def test_embed_nearest_and_tfidf(task, k2):
    X = fs.embed_texts(k2['text'])
    assert X.shape == (len(k2), 384) and np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-4)
    np.testing.assert_allclose(fs.embed_texts(k2['text']), X)  # cached
    r = fs.icl_predict(load_model('embedded:tiny'), load_tokenizer('embedded:tiny'), k2, task['test']['text'][:2],
                       fs.make_verbalizer(CLASS_LABELS), 'nearest', n_demos=2)
    assert len(r.preds) == 2
    clf = fs.tfidf_classifier(k2['text'], k2['label'])
    assert len(clf.predict(task['test']['text'][:5])) == 5
