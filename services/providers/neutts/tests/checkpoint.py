"""Tiny random NeuTTS weights, saved where `NeuTTS(...)` looks for them.

The backbone is any Hugging Face causal LM in a local directory (its loader reads
`config.json`, so it can be tiny). NeuCodec is loaded by repo id only
(`NeuCodec.from_pretrained("neuphonic/neucodec")`, which itself loads
`facebook/w2v-bert-2.0`), so both are written into an offline Hugging Face cache. The
codec's encoder/decoder sizes are hard-coded in neucodec and stay real; w2v-bert reads its
config, so it is made as small as NeuCodec allows (1024 wide, 16 layers: NeuCodec reads
hidden state 16).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SPEECH_CODES = 65_536  # NeuCodec's FSQ codebook
CONTROL_TOKENS = [
    "<|TEXT_REPLACE|>",
    "<|SPEECH_REPLACE|>",
    "<|TEXT_PROMPT_START|>",
    "<|TEXT_PROMPT_END|>",
    "<|SPEECH_GENERATION_START|>",
    "<|SPEECH_GENERATION_END|>",
]
_REVISION = "0" * 40


def hf_cache_env(cache: Path) -> dict[str, str]:
    """Environment that makes huggingface_hub read only `cache`, never the network."""
    return {"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _snapshot(cache: Path, repo_id: str) -> Path:
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(_REVISION)
    snapshot = repo / "snapshots" / _REVISION
    snapshot.mkdir(parents=True, exist_ok=True)
    return snapshot


def make_backbone(directory: Path) -> Path:
    """A 2-layer Qwen2 (NeuTTS-Air's family) with the NeuTTS control and speech tokens."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    raw = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    raw.pre_tokenizer = byte_level
    raw.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": [*CONTROL_TOKENS, "<|endoftext|>"]})
    tokenizer.add_tokens([f"<|speech_{i}|>" for i in range(SPEECH_CODES)], special_tokens=True)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(directory)

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|SPEECH_GENERATION_END|>"),
    )
    Qwen2ForCausalLM(config).to(torch.bfloat16).save_pretrained(directory)
    return directory


def _make_w2v_bert(cache: Path) -> None:
    from transformers import SeamlessM4TFeatureExtractor, Wav2Vec2BertConfig, Wav2Vec2BertModel

    snapshot = _snapshot(cache, "facebook/w2v-bert-2.0")
    config = Wav2Vec2BertConfig(
        hidden_size=1024,
        num_hidden_layers=16,
        num_attention_heads=16,
        intermediate_size=64,
        conv_depthwise_kernel_size=3,
        feature_projection_input_dim=160,
    )
    Wav2Vec2BertModel(config).half().save_pretrained(snapshot)
    # Stored in half precision to halve the disk; the real model loads as float32.
    config_file = snapshot / "config.json"
    saved = json.loads(config_file.read_text())
    saved["dtype"] = "float32"
    config_file.write_text(json.dumps(saved))
    SeamlessM4TFeatureExtractor(
        feature_size=80, num_mel_bins=80, sampling_rate=16_000, stride=2
    ).save_pretrained(snapshot)


def _make_distilhubert(cache: Path) -> None:
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    snapshot = _snapshot(cache, "ntu-spml/distilhubert")
    config = HubertConfig(
        hidden_size=768, num_hidden_layers=1, num_attention_heads=12, intermediate_size=64
    )
    HubertModel(config).save_pretrained(snapshot)
    Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16_000, do_normalize=False, return_attention_mask=False
    ).save_pretrained(snapshot)


def make_codec_cache(cache: Path, codec_repo: str = "neuphonic/neucodec") -> Path:
    """Plant NeuCodec or DistillNeuCodec (and the speech encoder it loads) in an offline
    HF cache at `cache`.

    Must run in a process whose environment is `hf_cache_env(cache)` before
    huggingface_hub is imported (it reads those variables once).
    """
    assert os.environ.get("HF_HUB_CACHE") == str(cache), "run under hf_cache_env(cache)"
    import torch
    from neucodec import DistillNeuCodec, NeuCodec

    torch.manual_seed(0)
    if codec_repo == "neuphonic/distill-neucodec":
        _make_distilhubert(cache)
        codec: torch.nn.Module = DistillNeuCodec(24_000, 480)
    else:
        _make_w2v_bert(cache)
        codec = NeuCodec(24_000, 480)
    snapshot = _snapshot(cache, codec_repo)
    state = {
        k: v.half() if v.is_floating_point() else v
        for k, v in codec.state_dict().items()
        if not k.startswith("semantic_model.")
    }
    torch.save(state, snapshot / "pytorch_model.bin")
    (snapshot / "meta.yaml").write_text("random weights made by the Chorus tests\n")
    (snapshot / "config.json").write_text(json.dumps({"sample_rate": 24_000, "hop_length": 480}))
    return cache


if __name__ == "__main__":
    import sys

    root = Path(sys.argv[1])
    make_backbone(root / "backbone")
    make_codec_cache(root / "hf", sys.argv[2] if len(sys.argv) > 2 else "neuphonic/neucodec")
