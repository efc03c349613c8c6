"train.fit: what a user does with its result after training."
import copy
import torch
from lowres_ft.train import fit
from lowres_ft.data import instruction_set

def test_trained_model_copies_and_trainer_evaluates(tiny_base):
    r = fit('embedded:tiny', instruction_set(48), objective='sft', preset='tiny', max_steps=3, progress=False,
            eval_data=instruction_set(16, seed=1))
    assert 'eval_loss' in r.trainer.evaluate()                      # the trainer still works after fit returns
    c = copy.deepcopy(r.model)
    for p in c.parameters():
        if p.requires_grad: torch.nn.init.zeros_(p)                  # change the copy only
    x = torch.tensor([[5, 6, 7, 8]])
    assert not torch.allclose(r.model(x).logits, c(x).logits)       # the copy runs its own weights, not the original's

def test_instruction_set_with_all_columns_trains(tiny_base):
    ds = instruction_set(32)                                         # messages + prompt/completion + kind
    r = fit('embedded:tiny', ds, objective='sft', preset='tiny', max_steps=2, progress=False)
    assert r.trainer.args.assistant_only_loss and r.trainer.train_dataset.column_names[:1] == ['messages']

def test_trl_fused_forward_is_found_and_kept_off_the_returned_model(tiny_base):
    "One rule for TRL's fused-LM-head patch, checked against the installed TRL: it is recognised by TRL's own code."
    from lowres_ft.train import _fused_codes, fused_forwards, trainer_class
    from trl import SFTTrainer
    assert _fused_codes(), 'the installed TRL has no add_fused_lm_head: fused_forwards would find nothing'
    r = fit('embedded:tiny', instruction_set(16), objective='sft', preset='tiny', max_steps=1, progress=False)
    assert type(r.trainer) is trainer_class(SFTTrainer) and trainer_class(SFTTrainer) is trainer_class(SFTTrainer)
    assert r.trainer._fused and fused_forwards(r.model) == []      # the trainer holds the patch; the model runs its own forward
    seen = []
    class Probe(__import__('transformers').TrainerCallback):
        def on_evaluate(self, args, state, control, model=None, **kw): seen.append(bool(fused_forwards(model)))
    r.trainer.add_callback(Probe()); r.trainer.evaluate(instruction_set(4, seed=1).select_columns(['messages']))
    assert seen == [True] and fused_forwards(r.model) == []         # back on for the trainer's own call, off after it

def test_regularizer_enters_the_loss(tiny_base):
    from lowres_ft.data import general_corpus
    kw = dict(objective='causal_lm', method='full', preset='tiny', max_steps=3, progress=False)
    a = fit('embedded:tiny', general_corpus(30), **kw)
    b = fit('embedded:tiny', general_corpus(30), regularizer=lambda m: 100 * sum(p.square().sum() for p in m.parameters()), **kw)
    assert b.history['loss'].dropna().iloc[0] > a.history['loss'].dropna().iloc[0] + 1   # the penalty is in the logged loss

def test_a_build_that_bypasses_trainer_class_is_refused(tiny_base):
    import dataclasses, pytest
    from transformers import Trainer
    from lowres_ft.registry import OBJECTIVES, register_objective, get_objective
    base = get_objective('causal_lm')
    plain = dataclasses.replace(base, name='plain_trainer', build=lambda model, tok, tr, ev, args, cb, opt, extra:
                                Trainer(model=model, args=args, train_dataset=tr, processing_class=tok))
    register_objective(plain)
    try:
        with pytest.raises(TypeError, match=r'trainer_class\(Trainer\)'): fit('embedded:tiny', ['a b c'] * 8, objective='plain_trainer', method='full', max_steps=1, progress=False)
    finally: del OBJECTIVES['plain_trainer']


def test_fit_frees_the_optimizer_state_unless_asked_to_keep_it():
    from lowres_ft.train import fit
    from lowres_ft.core import load_model
    data = ['the cat sat on the mat'] * 8
    r = fit(load_model('embedded:tiny'), data, 'causal_lm', 'full', preset='tiny', max_steps=2, progress=False)
    assert r.trainer.optimizer is None and not r.trainer.accelerator._optimizers
    assert all(p.grad is None for p in r.model.parameters())
    assert 'eval_loss' in r.trainer.evaluate(r.trainer.train_dataset)  # evaluating still works
    k = fit(load_model('embedded:tiny'), data, 'causal_lm', 'full', preset='tiny', max_steps=2, progress=False, keep_optimizer=True)
    assert k.trainer.optimizer is not None and len(k.trainer.optimizer.state) > 0


def test_the_returned_model_runs_in_its_own_precision_after_mixed_precision_training():
    "accelerate wraps forward in autocast for bf16/fp16 training; fit removes it, so later forwards use the fp32 weights."
    import torch
    from lowres_ft.core import get_preset, load_model, load_tokenizer
    from lowres_ft.train import fit
    tok = load_tokenizer('embedded:tiny')
    r = fit(load_model('embedded:tiny'), ['the cat sat on the mat'] * 8, 'causal_lm', 'full', tokenizer=tok,
            preset=get_preset('tiny', precision='bf16'), max_steps=2, progress=False)
    assert '_original_forward' not in r.model.__dict__
    x = tok(['the cat sat'], return_tensors='pt')
    with torch.no_grad():
        got = r.model.eval()(**x).logits
        plain = type(r.model).forward(r.model, **x).logits   # the class's own forward, no wrapper
    assert torch.equal(got, plain)

