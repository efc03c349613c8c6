"Paired comparisons, verdicts, best-of-k and claims records: the statistics every page's findings come from."
import json, math
import numpy as np, pandas as pd, pytest
from lowres_ft.evaluate import compare, best_of, verdict, proportion_ci, ClaimsRecord, load_claims, mean_ci

def _paired(n_items=300, n_seeds=3, lift=0.08, seed=0):
    "Two methods on the same items: b is right wherever a is, plus on `lift` of the rest (a real, small advantage)."
    rng, rows = np.random.default_rng(seed), []
    for s in range(n_seeds):
        hard = rng.random(n_items) < 0.45                      # shared difficulty: what pairing removes
        a = (~hard) & (rng.random(n_items) < 0.9)
        b = a | (rng.random(n_items) < lift)
        rows += [dict(method='a', seed=s, item=i, correct=int(x)) for i, x in enumerate(a)]
        rows += [dict(method='b', seed=s, item=i, correct=int(x)) for i, x in enumerate(b)]
    return pd.DataFrame(rows)

def test_paired_interval_resolves_what_unpaired_ones_cannot():
    df = _paired()
    per_seed = df.groupby(['method', 'seed'])['correct'].mean()
    (_, alo, ahi), (_, blo, bhi) = mean_ci(per_seed['a']), mean_ci(per_seed['b'])
    assert alo < bhi and blo < ahi                                            # the unpaired intervals overlap
    c = compare(df, 'a').iloc[0]
    assert c.ci_lo > 0 and c.p_value < 0.05 and c.n_items == 300 and c.seeds_fixed   # the paired one excludes zero
    assert 0 < c.mde < c.effect

def test_many_seeds_are_resampled_too():
    c = compare(_paired(n_items=60, n_seeds=8), 'a').iloc[0]
    assert not c.seeds_fixed and c.ci_lo < c.effect < c.ci_hi

def test_zero_variance_is_flagged_not_certain():
    df = _paired(); same = pd.concat([df[df.method == 'a'], df[df.method == 'a'].assign(method='copy')])
    c = compare(same, 'a').iloc[0]
    assert c.zero_variance and c.effect == 0 and c.p_value == 1.0
    assert verdict('none', 0.01, c.effect, c.ci_lo, c.ci_hi, c.zero_variance)[0] == "can't tell"

def test_compare_needs_shared_cells_and_columns():
    df = _paired()
    with pytest.raises(ValueError, match='share no'): compare(pd.concat([df[df.method == 'a'], df[df.method == 'b'].assign(seed=99)]), 'a')
    with pytest.raises(ValueError, match="column 'item'"): compare(df.drop(columns='item'), 'a')
    with pytest.raises(ValueError, match='no rows with method'): compare(df, 'zzz')

def test_best_of_k_names_a_winner_only_when_resolved():
    df = _paired()
    assert best_of(df)['winner'] == 'b'
    near = pd.concat([df, df[df.method == 'b'].assign(method='b2')])           # a tie at the top
    r = best_of(near)
    assert r['winner'] is None and r['reason'].startswith('no winner') and r['k'] == 3 and math.isclose(r['conf'], 0.975)

@pytest.mark.parametrize('expected,m,lo,hi,want', [
    ('greater', .02, .01, .09, 'agrees'), ('greater', .05, -.03, .05, "can't tell"), ('greater', .05, -.01, .02, 'disagrees'),
    ('less', .02, .01, .09, 'disagrees'), ('less', .02, -.09, -.01, 'agrees'),
    ('none', .05, -.02, .03, 'agrees'), ('none', .01, -.02, .03, "can't tell"), ('none', .01, .02, .05, 'disagrees'),
    ('not_less', .05, -.03, .05, 'agrees'), ('not_less', .05, -.12, -.06, 'disagrees'), ('not_less', .05, -.10, .01, "can't tell")])
def test_verdicts(expected, m, lo, hi, want):
    assert verdict(expected, m, (lo + hi) / 2, lo, hi)[0] == want

def test_verdict_bad_input():
    with pytest.raises(ValueError, match='expected must be'): verdict('better', .1, 0, 0, 0)
    with pytest.raises(ValueError, match='min_effect'): verdict('greater', -1, 0, 0, 0)

def test_wilson_intervals_stay_in_range():
    assert proportion_ci(0, 40)[1] == 0.0 and proportion_ci(40, 40)[2] == 1.0 and proportion_ci(40, 40)[1] > 0.9
    p, lo, hi = proportion_ci(34, 40); assert p == 0.85 and lo < 0.85 < hi
    with pytest.raises(ValueError, match='between 0 and n'): proportion_ci(5, 4)

def test_claims_record_round_trip(tmp_path, monkeypatch):
    monkeypatch.delenv('IN_TEST', raising=False)
    rec = ClaimsRecord('99_demo', preset='tiny')
    rec.declare('demo.b_beats_a', 'b beats a', '§0', 'greater', 0.02, 'accuracy', 'anything real')
    rec.declare('demo.unmeasured', 'not run', '§0', 'none', 0.01, 'accuracy')
    with pytest.raises(KeyError, match='not declared'): rec.record('demo.nope', {})
    r = rec.record('demo.b_beats_a', compare(_paired(), 'a').iloc[0], cell='here')
    assert r['verdict'] == 'agrees'
    with pytest.raises(ValueError, match='already measured'): rec.declare('demo.b_beats_a', 'x', '', 'greater', .1, '')
    assert '**agrees**' in rec.summary() and 'declared, not measured' in rec.summary()
    f = rec.save(tmp_path); doc = json.loads(f.read_text())
    assert doc['preset'] == 'tiny' and doc['chapter'] == '99_demo' and 'transformers' in doc['versions']
    t = load_claims(tmp_path)
    assert list(t['verdict']) == ['agrees', 'not measured'] and t['effect'].iloc[0] > 0

def test_test_runs_never_overwrite_executed_records(tmp_path, monkeypatch):
    monkeypatch.setenv('IN_TEST', '1'); monkeypatch.setenv('LOWRES_FT_CLAIMS', str(tmp_path))
    rec = ClaimsRecord('99_demo', preset='tiny'); rec.declare('demo.x', 'x', '§0', 'greater', 0.1, 'm')
    assert rec.save() is None and not list(tmp_path.iterdir())

def test_broken_record_names_the_fix(tmp_path):
    (tmp_path/'10_x.json').write_text('{not json')
    with pytest.raises(ValueError, match='re-execute its chapter'): load_claims(tmp_path)
