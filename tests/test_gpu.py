"GPU-only tests: skipped without CUDA (CI has none); run them on a GPU machine with `pytest -m gpu`."
import pytest, torch
from lowres_ft.train import fit
from lowres_ft.core import load_model, load_tokenizer

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')]

def test_bf16_or_fp16_training():
    from lowres_ft.data import instruction_set
    res = fit('embedded:tiny', instruction_set(64).select_columns(['prompt','completion']), objective='sft',
              preset='small', max_steps=10, progress=False)
    args = res.trainer.args
    assert args.bf16 or args.fp16
    loss = res.history['loss'].dropna()
    assert loss.iloc[-1] < loss.iloc[0]

def test_qlora_4bit_training_on_cuda():
    from lowres_ft.data import domain_corpus
    model = load_model('embedded:tiny', quantize='4bit')
    res = fit(model, domain_corpus(100), objective='causal_lm', method='lora', tokenizer=load_tokenizer('embedded:tiny'),
              preset='small', max_steps=10, progress=False)
    loss = res.history['loss'].dropna()
    assert loss.iloc[-1] < loss.iloc[0]
