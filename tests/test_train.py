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
