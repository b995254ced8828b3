"""Higgs' processor, with its audio tokenizer (the codec) found where the operator keeps it.

A checkpoint's `processor_config.json` names the codec by reference, a Hub repo id in the
released checkpoints; with no `codec_path` that reference is resolved the usual way (the
HF cache, offline). With `codec_path` (e.g. both checkpoints on one volume) the processor
is assembled from the checkpoint's own parts and that codec, and the reference is ignored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import (
    AutoProcessor,
    AutoTokenizer,
    DacFeatureExtractor,
    HiggsAudioV2Processor,
    HiggsAudioV2TokenizerModel,
)

# HiggsAudioV2Processor's own settings, as processor_config.json stores them.
_PROCESSOR_OPTIONS = (
    "audio_token",
    "audio_bos_token",
    "audio_eos_token",
    "audio_delay_token",
    "audio_stream_bos_id",
    "audio_stream_eos_id",
)


def load_processor(model_dir: Path, codec_path: Path | None) -> Any:
    """The checkpoint's HiggsAudioV2Processor, its codec from `codec_path` when given."""
    if codec_path is None:
        return AutoProcessor.from_pretrained(model_dir)  # type: ignore[no-untyped-call]
    config = json.loads((model_dir / "processor_config.json").read_text())
    extractor = (
        DacFeatureExtractor(
            **{
                k: v
                for k, v in config["feature_extractor"].items()
                if k != "feature_extractor_type"
            }
        )
        if "feature_extractor" in config
        else DacFeatureExtractor.from_pretrained(model_dir)
    )
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    template_file = model_dir / "chat_template.jinja"
    template = template_file.read_text() if template_file.is_file() else config.get("chat_template")
    return HiggsAudioV2Processor(  # type: ignore[no-untyped-call]
        extractor,
        tokenizer,
        HiggsAudioV2TokenizerModel.from_pretrained(codec_path),
        chat_template=template or tokenizer.chat_template,
        **{key: config[key] for key in _PROCESSOR_OPTIONS if key in config},
    )
