"Train the embedded tiny base with LoRA on general text; used by the kill-and-resume and DDP tests."
import os, sys, time, hashlib
from pathlib import Path
import torch
from transformers import TrainerCallback
from lowres_ft.train import fit
from lowres_ft.data import general_corpus

out, steps = Path(sys.argv[1]), int(sys.argv[2])
delay = float(os.environ.get('STEP_DELAY', '0'))

class Slow(TrainerCallback):
    "Slow each step down so the test can kill the run between two checkpoints."
    def on_step_end(self, args, state, control, **kw): time.sleep(delay)

res = fit('embedded:tiny', general_corpus(200), objective='causal_lm', method='lora', preset='tiny', seed=0,
          output_dir=out, max_steps=steps, save_steps=3, save_total_limit=10, logging_steps=1,
          callbacks=(Slow(),) if delay else (), progress=False)
rank = int(os.environ.get('RANK', '0'))
world = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
sd = {k: v.detach().cpu() for k, v in res.model.state_dict().items() if 'lora' in k}
torch.save({'state': sd, 'world': world, 'step': res.trainer.state.global_step}, out/f'weights-rank{rank}.pt')
print(f'rank {rank}/{world}: done at step {res.trainer.state.global_step}')
