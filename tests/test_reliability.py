"""Issue 18, as a hostile new user tried it: the output-folder contract, arguments checked before anything loads,
runs that diverge or change nothing, damaged checkpoints, data errors that name the fix, the bench's batch clamp.
Each test reproduced its failure before the fix (a user's README.md overwritten, a finished run silently resumed with
new arguments, an all-NaN adapter saved with exit 0, raw pyarrow/tokenizer tracebacks, ...)."""
import hashlib, json, re, shutil
from pathlib import Path
import pytest, torch
from lowres_ft import train
from lowres_ft.cli import main
from lowres_ft.train import fit, read_run, last_checkpoint, checkpoint_problem, RUN_FILE, MANIFEST

ROWS = [{'prompt': f'What is {i} plus 1?', 'completion': str(i + 1)} for i in range(16)]

def write_jsonl(path, rows):
    path.write_text('\n'.join(json.dumps(r) for r in rows) + '\n'); return path

def cli(capsys, *argv):
    "main(argv) in this process: (exit code, stdout, stderr)."
    rc = main([str(a) for a in argv]); o = capsys.readouterr()
    return rc, o.out, o.err

def digest(d:Path) -> dict:
    "Every file under `d` and its sha256: to show a folder was not touched."
    return {str(f.relative_to(d)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(d.rglob('*')) if f.is_file()}

@pytest.fixture
def no_model_load(monkeypatch):
    "Fail the test if a model is loaded: the check under test must come first."
    def boom(*a, **k): raise AssertionError('a model was loaded before the arguments were checked')
    monkeypatch.setattr(train, 'load_model', boom)

@pytest.fixture(scope='module')
def data_file(tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp('data')/'sft.jsonl', ROWS)

@pytest.fixture(scope='module')
def finished_run(tmp_path_factory, data_file, tiny_base):
    "A finished `lowres-ft train` run (3 steps), made once; tests copy it before changing it."
    out = tmp_path_factory.mktemp('runs')/'done'
    assert main(['train', '--data', str(data_file), '--steps', '3', '--out', str(out)]) == 0
    return out

def job(data_file, out, *more): return ['train', '--data', data_file, '--steps', '3', '--out', out, *more]

def setflags(argv:list, flags:list) -> list:
    "`argv` with each `--flag value` of `flags` replaced, or added."
    argv = list(argv)
    for flag, value in zip(flags[::2], flags[1::2]):
        if flag in argv: argv[argv.index(flag) + 1] = value
        else: argv += [flag, value]
    return argv

# ---- 1. a user's file is never lost ----------------------------------------------------------------------------------

def test_user_folder_refused_and_untouched(tmp_path, capsys, data_file, no_model_load):
    (tmp_path/'README.md').write_text('my notes')
    rc, _, err = cli(capsys, *job(data_file, tmp_path))
    assert rc == 2 and 'holds no lowres_ft run' in err and str(tmp_path/'run') in err   # names another folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ['README.md'] and (tmp_path/'README.md').read_text() == 'my notes'

def test_overwrite_trains_beside_user_files_without_touching_them(tmp_path, capsys, data_file, tiny_base):
    (tmp_path/'README.md').write_text('my notes')
    rc, out, err = cli(capsys, *job(data_file, tmp_path, '--overwrite'))
    assert rc == 0, err
    assert (tmp_path/'README.md').read_text() == 'my notes'                            # TRL's model card is not written
    assert sorted(p.name for p in tmp_path.iterdir()) == ['README.md', 'checkpoint-2', 'checkpoint-3', 'final', RUN_FILE]

# ---- 2. never the wrong model with exit 0 ----------------------------------------------------------------------------

def test_finished_run_does_nothing_and_says_so(tmp_path, capsys, data_file, finished_run):
    "The same command again: nothing trains and no file changes (it used to train one step more and rotate checkpoints)."
    out = tmp_path/'run'; shutil.copytree(finished_run, out); before = digest(out)
    rc, stdout, err = cli(capsys, *job(data_file, out))
    assert rc == 0, err
    assert 'nothing to do' in stdout and '--overwrite' in stdout
    assert digest(out) == before and read_run(out)['step'] == 3

@pytest.mark.parametrize('change, key', [
    (['--lr', '1e-2'], 'args.learning_rate'), (['--seed', '1'], 'seed'), (['--steps', '5'], 'args.max_steps'),
    (['--method', 'full'], 'method'), (['--data', 'other'], 'data.fingerprint')])
def test_different_configuration_refused(tmp_path, capsys, data_file, finished_run, no_model_load, change, key):
    "New --lr/--seed/--steps/--method/--data in a finished (or unfinished) run's folder: refused before the model loads."
    out = tmp_path/'run'; shutil.copytree(finished_run, out); before = digest(out)
    if change[0] == '--data': change = ['--data', write_jsonl(tmp_path/'other.jsonl', ROWS[:8])]
    rc, _, err = cli(capsys, *setflags(job(data_file, out), change))
    assert rc == 2 and 'different configuration' in err and key in err and '--overwrite' in err and '--out' in err
    assert digest(out) == before

def test_overwrite_replaces_only_the_runs_files(tmp_path, capsys, data_file, finished_run, tiny_base):
    out = tmp_path/'run'; shutil.copytree(finished_run, out); (out/'notes.txt').write_text('mine')
    old = (out/'final'/'adapter_model.safetensors').read_bytes()
    rc, _, err = cli(capsys, *job(data_file, out, '--lr', '1e-2', '--overwrite'))
    assert rc == 0, err
    assert (out/'notes.txt').read_text() == 'mine' and read_run(out)['config']['args']['learning_rate'] == 1e-2
    assert (out/'final'/'adapter_model.safetensors').read_bytes() != old

def test_run_that_failed_before_any_checkpoint_is_replaced(tmp_path, tiny_base):
    "Nothing to lose: a diverged run with no checkpoint does not block the corrected command."
    kw = dict(objective='causal_lm', preset='tiny', max_steps=6, save_steps=10, output_dir=tmp_path, progress=False)
    with pytest.raises(train.TrainingDiverged): fit('embedded:tiny', ['a b c d e f g h'] * 8, learning_rate=1e9, **kw)
    assert not (tmp_path/'final').exists() and read_run(tmp_path)['status'] == 'running'
    assert fit('embedded:tiny', ['a b c d e f g h'] * 8, **kw).status == 'trained'

@pytest.mark.parametrize('flags, msg', [
    (['--steps', '0'], '--steps 0'), (['--steps', '-5'], '--steps -5'), (['--lr', '0'], '--lr 0'),
    (['--lr', 'nan'], '--lr nan'), (['--lr', 'inf'], '--lr inf'), (['--lr', '-1'], '--lr -1'),
    (['--out', ''], '--out is empty'), (['--out', 'FILE'], 'is a file, not a folder'),
    (['--out', '/sys/lowres_ft_run'], 'is not writable'), (['--data', ' '], '--data is empty')])
def test_bad_flags_refused_before_anything_loads(tmp_path, capsys, data_file, no_model_load, flags, msg):
    argv = job(data_file, tmp_path/'run')
    (tmp_path/'FILE').write_text('x'); flags = [str(tmp_path/'FILE') if f == 'FILE' else f for f in flags]
    rc, out, err = cli(capsys, *setflags(argv, flags))
    assert rc == 2 and msg in err and 'saved' not in out
    assert not (tmp_path/'run').exists()

@pytest.mark.parametrize('kw, msg', [
    (dict(max_steps=0), 'max_steps=0'), (dict(max_steps=-5), 'max_steps=-5'), (dict(max_steps=2.5), 'max_steps=2.5'),
    (dict(learning_rate=0), 'learning_rate=0'), (dict(learning_rate=float('inf')), 'learning_rate=inf'),
    (dict(per_device_train_batch_size=0), 'per_device_train_batch_size=0'), (dict(output_dir=''), 'output_dir is empty'),
    (dict(max_steps=3, warmup_steps=3), 'the whole run'), (dict(seed='1'), 'seed must be an int')])
def test_fit_refuses_bad_arguments_before_loading(kw, msg, no_model_load):
    with pytest.raises((ValueError, TypeError), match=re.escape(msg)):
        fit('embedded:tiny', ['a b c'] * 4, objective='causal_lm', preset='tiny', progress=False, **kw)

def test_fit_none_model():
    with pytest.raises(TypeError, match="model must be a model name"): fit(None, ['a b c'], objective='causal_lm')

def test_nan_run_exits_nonzero_and_saves_no_final(tmp_path, capsys, data_file, tiny_base):
    "--lr 1e9 used to save an all-NaN adapter with exit 0."
    out = tmp_path/'run'
    rc, stdout, err = cli(capsys, 'train', '--data', data_file, '--steps', '6', '--lr', '1e9', '--out', out)
    assert rc == 2 and 'Training diverged' in err and 'saved:' not in stdout
    assert not (out/'final').exists() and read_run(out)['status'] == 'running'
    for c in out.glob('checkpoint-*'):                                                   # what was kept is finite
        from safetensors.torch import load_file
        assert all(torch.isfinite(t).all() for t in load_file(c/'adapter_model.safetensors').values()), c

def test_zero_update_run_is_an_error(tiny_base):
    with pytest.raises(train.NoUpdateError, match='no trainable weight changed.*learning_rate=1e-30'):
        fit('embedded:tiny', ['a b c d e f g h'] * 8, objective='causal_lm', method='full', preset='tiny', max_steps=2,
            learning_rate=1e-30, progress=False)

def test_one_step_run_updates(tiny_base):
    "A 1-step run used to spend its only step in the warm-up, at learning rate 0."
    r = fit('embedded:tiny', ['a b c d e f g h'] * 8, objective='causal_lm', preset='tiny', max_steps=1, progress=False)
    assert r.trainer.state.global_step == 1 and r.trainer.args.warmup_steps == 0
    assert any(p.abs().sum() > 0 for n, p in r.model.named_parameters() if 'lora_B' in n)

@pytest.mark.parametrize('data, msg', [
    (['a text', ''], 'row 1: empty'), (['a text', '   \n'], 'row 1: only whitespace'),
    ([{'prompt': 'q', 'completion': ''}], "no usable 'completion'"),
    ([{'prompt': 'q', 'completion': None}, {'prompt': 'q', 'completion': 'a'}], 'row 0: missing (None)'),
    ([{'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': ' '}]}], 'no assistant turn with text')])
def test_empty_texts_refused(data, msg, no_model_load):
    "Empty or whitespace-only texts used to 'train' with loss 0.0."
    obj = 'causal_lm' if isinstance(data[0], str) else 'sft'
    with pytest.raises(ValueError, match=re.escape(msg)): fit('embedded:tiny', data, objective=obj)

# ---- 3. damaged checkpoints -----------------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def six_steps(tmp_path_factory, tiny_base):
    "A finished 6-step run with checkpoints at 3 and 6, and its final weights."
    out = tmp_path_factory.mktemp('runs')/'six'
    r = fit('embedded:tiny', ['the cat sat on the mat and the dog barked at it'] * 40, objective='causal_lm', preset='tiny',
            max_steps=6, save_steps=3, save_total_limit=5, output_dir=out, progress=False)
    return out, {k: v.detach().clone() for k, v in r.model.state_dict().items() if 'lora' in k}

def truncate(f:Path, keep=0.5): b = f.read_bytes(); f.write_bytes(b[:int(len(b) * keep)])

@pytest.mark.parametrize('damage', ['adapter_model.safetensors', 'optimizer.pt', 'scheduler.pt', 'no-manifest'])
def test_damaged_newest_checkpoint_falls_back(tmp_path, six_steps, damage):
    """A checkpoint whose trainer_state.json is valid but whose weights or optimizer is cut off used to be resumed from
    (a raw error); a kill after the trainer state but before the manifest leaves one that is not known to be whole."""
    src, ref = six_steps; out = tmp_path/'run'; shutil.copytree(src, out)
    shutil.rmtree(out/'final'); rec = read_run(out); rec['status'] = 'running'; (out/RUN_FILE).write_text(json.dumps(rec))
    if damage == 'no-manifest': (out/'checkpoint-6'/MANIFEST).unlink()
    else: truncate(out/'checkpoint-6'/damage)
    with pytest.warns(UserWarning, match=r'checkpoint-6 cannot be resumed from .*moved it to incomplete-checkpoint-6; resuming from checkpoint-3'):
        r = fit('embedded:tiny', ['the cat sat on the mat and the dog barked at it'] * 40, objective='causal_lm',
                preset='tiny', max_steps=6, save_steps=3, save_total_limit=5, output_dir=out, progress=False)
    assert r.status == 'resumed' and r.trainer.state.global_step == 6                   # not a step past max_steps
    got = {k: v for k, v in r.model.state_dict().items() if 'lora' in k}
    for k in ref: torch.testing.assert_close(got[k], ref[k], rtol=0, atol=1e-6, msg=k)   # as if never interrupted
    assert (out/'incomplete-checkpoint-6').is_dir() and read_run(out)['status'] == 'finished'

def test_killed_while_final_was_written_resumes_to_the_end(tmp_path, six_steps):
    "No final/ and status running, checkpoint-6 complete: zero steps to train, final/ written, not step 7."
    src, ref = six_steps; out = tmp_path/'run'; shutil.copytree(src, out)
    shutil.rmtree(out/'final'); rec = read_run(out); rec['status'] = 'running'; (out/RUN_FILE).write_text(json.dumps(rec))
    r = fit('embedded:tiny', ['the cat sat on the mat and the dog barked at it'] * 40, objective='causal_lm', preset='tiny',
            max_steps=6, save_steps=3, save_total_limit=5, output_dir=out, progress=False)
    assert r.trainer.state.global_step == 6 and (out/'final'/'adapter_model.safetensors').exists()
    assert sorted(p.name for p in out.glob('checkpoint-*')) == ['checkpoint-3', 'checkpoint-6']   # none deleted

HEADER = b'{"a": nonsense}'
@pytest.mark.parametrize('damage, msg', [
    (lambda c: truncate(c/'adapter_model.safetensors', 0.0001), 'no complete header'),
    (lambda c: (c/'adapter_model.safetensors').write_bytes(len(HEADER).to_bytes(8, 'little') + HEADER), 'unreadable header'),
    (lambda c: truncate(c/'adapter_model.safetensors', 0.9), 'its header describes'),
    (lambda c: truncate(c/'rng_state.pth', 0.9), 'rng_state.pth is truncated'),
    (lambda c: truncate(c/'optimizer.pt', 0.5), 'optimizer.pt is truncated'),
    (lambda c: (c/'trainer_state.json').write_text('{"global'), 'trainer_state.json is missing or unreadable'),
    (lambda c: (c/'adapter_model.safetensors').unlink(), 'it holds no model weights')])
def test_checkpoint_problem_names_the_damage(tmp_path, six_steps, damage, msg):
    "Without a manifest (another trainer's checkpoint, or one from before it existed) the content itself is checked."
    c = tmp_path/'checkpoint-3'; shutil.copytree(six_steps[0]/'checkpoint-3', c)
    assert checkpoint_problem(c, strict=True) is None
    (c/MANIFEST).unlink(); assert checkpoint_problem(c) is None and 'written only partly' in checkpoint_problem(c, strict=True)
    damage(c); assert msg in checkpoint_problem(c)

def test_manifest_catches_a_file_cut_short(tmp_path, six_steps):
    c = tmp_path/'checkpoint-3'; shutil.copytree(six_steps[0]/'checkpoint-3', c)
    (c/'tokenizer.json').write_text('{}')                                                  # valid JSON, wrong size
    assert checkpoint_problem(c).startswith('tokenizer.json is truncated')

def test_checkpoints_are_written_with_a_manifest_last(six_steps):
    for c in six_steps[0].glob('checkpoint-*'):
        files = json.loads((c/MANIFEST).read_text())['files']
        assert {'adapter_model.safetensors', 'optimizer.pt', 'trainer_state.json'} <= set(files)
        assert all((c/f).stat().st_size == n for f, n in files.items())

def test_only_rank0_moves_checkpoints(tmp_path, monkeypatch):
    "The other ranks wait at the barrier and read; they never move or delete a checkpoint folder."
    for s in (3, 6): (tmp_path/f'checkpoint-{s}').mkdir()
    (tmp_path/'checkpoint-3'/'trainer_state.json').write_text('{}')
    from safetensors.torch import save_file
    save_file({'w': torch.ones(2)}, str(tmp_path/'checkpoint-3'/'model.safetensors'))
    waited = []
    monkeypatch.setattr(train, '_rank', lambda: 1); monkeypatch.setattr(train, '_barrier', lambda: waited.append(1))
    assert last_checkpoint(tmp_path).name == 'checkpoint-3' and waited
    assert (tmp_path/'checkpoint-6').is_dir() and not (tmp_path/'incomplete-checkpoint-6').exists()
    monkeypatch.setattr(train, '_rank', lambda: 0)
    with pytest.warns(UserWarning, match='partly'): assert last_checkpoint(tmp_path).name == 'checkpoint-3'
    assert (tmp_path/'incomplete-checkpoint-6').is_dir()

# ---- 6. data errors that name the file, the row, the column and the fix -------------------------------------------

def _file(tmp_path, name, content):
    f = tmp_path/name; f.write_bytes(content if isinstance(content, bytes) else content.encode()); return f

@pytest.mark.parametrize('name, content, msg', [
    ('latin1.txt', 'café au lait\n'.encode('latin-1'), r'latin1.txt is not UTF-8 text: .* at line 1 .*iconv -f latin1'),
    ('latin1.csv', 'text,label\nna\xefve,0\n'.encode('latin-1'), r'latin1.csv is not UTF-8 text: .* at line 2'),
    ('latin1.jsonl', '{"text": "caf\xe9"}\n'.encode('latin-1'), r'latin1.jsonl is not UTF-8 text'),
    ('keys.jsonl', '{"prompt": "q", "completion": "a"}\n{"prompt": "q", "answer": "a"}\n',
     r"line 2 has keys \['answer', 'prompt'\], but line 1 has \['completion', 'prompt'\] \(missing \['completion'\]; extra \['answer'\]\)"),
    ('kinds.jsonl', '{"text": "a"}\n\n{"text": 3}\n', r"column 'text' mixes kinds of value: line 1 has text \('a'\), line 3 has a number \(3\)"),
    ('nested.jsonl', '{"messages": [{"role": "user", "content": "q"}]}\n{"messages": "q"}\n', r"column 'messages' mixes kinds"),
    ('row.jsonl', '{"text": "a"}\n"just text"\n', r'line 2 is text; fix the file')])
def test_data_file_errors_name_the_place_and_the_fix(tmp_path, capsys, name, content, msg, no_model_load):
    f = _file(tmp_path, name, content)
    rc, _, err = cli(capsys, 'train', '--data', f, '--out', tmp_path/'run')
    assert rc == 2 and re.search(msg, err), err
    assert 'Traceback' not in err and not (tmp_path/'run').exists()

def test_none_and_mixed_values_in_memory_data(no_model_load):
    with pytest.raises(ValueError, match=r"column 'text' mixes kinds of value: row 0 has text \('a'\), row 1 has a number"):
        fit('embedded:tiny', [{'text': 'a'}, {'text': 2}], objective='causal_lm')
    with pytest.raises(ValueError, match=r"row 1: missing \(None\)"): fit('embedded:tiny', [{'text': 'a'}, {'text': None}], objective='causal_lm')
    import pandas as pd
    with pytest.raises(ValueError, match=r"data: column 'text' mixes kinds"): fit('embedded:tiny', pd.DataFrame({'text': ['a', 1]}), objective='causal_lm')

@pytest.mark.parametrize('labels, msg', [
    (['pos', 'neg', 'pos'], r"the labels are strings \('neg', 'pos'\).*class_encode_column"),
    ([0.5, 1.0, 0.0], r'not fractions \(row 0: 0.5\)'), ([1, 1, 1], 'a single class'),
    ([0, None, 1], r'have no label \(row 1: None\)'), ([0, -1, 1], r'class ids start at 0; row 1: -1'),
    ([True, False, True], 'integer class ids')])
def test_classification_labels(labels, msg, no_model_load):
    "Strings, fractions or one class used to fail deep in the trainer, blaming a num_labels the user never passed."
    data = [{'text': f'example {i}', 'label': l} for i, l in enumerate(labels)]
    with pytest.raises(ValueError, match=msg): fit('embedded:encoder', data, objective='classification')

def test_kshot_dedup_quality_filter_errors():
    from datasets import Dataset
    from lowres_ft.data import kshot, dedup, quality_filter, classification_task
    with pytest.raises(ValueError, match='the data is empty'): kshot(classification_task(n_train=8)['train'].select([]), 2)
    with pytest.raises(ValueError, match=r"have no 'label' \(row 1\)"):
        kshot(Dataset.from_dict({'text': ['a', 'b', 'c'], 'label': [0, None, 1]}), 1)
    with pytest.raises(TypeError, match=r'dedup: 1 item\(s\) of the list are not text \(row 1: 2 \(int\)\)'): dedup(['a', 2])
    with pytest.raises(TypeError, match=r"dedup: 1 item\(s\) of column 'text' are not text \(row 1: None"):
        dedup(Dataset.from_dict({'text': ['a', None]}))
    with pytest.raises(TypeError, match=r'wrap it: quality_filter\(\[text\]\)'): quality_filter('one text')
    with pytest.raises(TypeError, match='not a DataFrame'):
        import pandas as pd; dedup(pd.DataFrame({'text': ['a']}))
    assert quality_filter(['one two three', None], verbose=False) == ['one two three']

# ---- 4. bounded work -------------------------------------------------------------------------------------------------

def test_bench_clamps_a_batch_larger_than_the_examples(capsys, tiny_base):
    "lowres-ft bench --batch 100000 --examples 16 was OOM-killed at 18 GB."
    from lowres_ft.bench import bench
    df = bench(('tiny',), ('lora',), ('lowres',), seq_len=32, batch_size=100000, n_examples=4, warmup=False)
    assert list(df.batch) == [4] and 'using a batch of 4' in capsys.readouterr().err
    with pytest.raises(ValueError, match='batch_size must be an int >= 1'): bench(batch_size=0)
