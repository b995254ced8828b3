"""A tiny random Higgs Audio v2 checkpoint: the real classes, a few layers, a small codec.

It is saved the way a Hub checkpoint is laid out (model, processor with tokenizer and chat
template, the audio tokenizer it references), so the provider loads it through the real
`from_pretrained` path. The audio is noise; every step from text to waveform is real.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    DacConfig,
    DacFeatureExtractor,
    HiggsAudioV2Config,
    HiggsAudioV2ForConditionalGeneration,
    HiggsAudioV2Processor,
    HiggsAudioV2TokenizerConfig,
    HiggsAudioV2TokenizerModel,
    HubertConfig,
    PreTrainedTokenizerFast,
)

SAMPLE_RATE = 24_000
CODEBOOK_SIZE = 64
STREAM_BOS, STREAM_EOS = CODEBOOK_SIZE, CODEBOOK_SIZE + 1
HOP = 960  # 25 frames a second, as the real codec
SPECIAL_TOKENS = [
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|scene_desc_start|>",
    "<|scene_desc_end|>",
    "<|audio_out_bos|>",
    "<|AUDIO_OUT|>",
    "<|audio_eos|>",
    "<|reserved_special_token_6|>",
]

# The prompt layout of the released checkpoint: system, scene (text and reference audio),
# turns, then the assistant's audio-out BOS that generation continues from.
CHAT_TEMPLATE = """{{- bos_token -}}
<|start_header_id|>system<|end_header_id|>

{{ messages[0]['content'][0]['text'] | trim }}
{%- set rest = messages[1:] -%}
{%- if rest and rest[0]['role'] == 'scene' -%}
{{ "\\n\\n<|scene_desc_start|>\\n" }}
{%- for item in rest[0]['content'] -%}
{%- if item['type'] == 'text' -%}{{ item['text'] | trim }}
{%- else -%}{{ ' <|audio_out_bos|><|AUDIO_OUT|><|audio_eos|>' }}{%- endif -%}
{%- if not loop.last -%}{{ "\\n" }}{%- endif -%}
{%- endfor -%}
{{ "\\n<|scene_desc_end|>" }}
{%- set rest = rest[1:] -%}
{%- endif -%}
<|eot_id|>
{%- for message in rest -%}
<|start_header_id|>{{ message['role'] }}<|end_header_id|>

{% if message['role'] == 'assistant' -%}
<|audio_out_bos|><|AUDIO_OUT|><|audio_eos|>
{%- else -%}
{{ message['content'][0]['text'] | trim }}
{%- endif -%}
<|eot_id|>
{%- endfor -%}
{%- if add_generation_prompt -%}
<|start_header_id|>assistant<|end_header_id|>

<|audio_out_bos|>
{%- endif -%}"""


def _tokenizer() -> PreTrainedTokenizerFast:
    """Byte-level BPE with no merges: every byte one token, plus Higgs' special tokens."""
    vocab = {ch: i for i, ch in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<|end_of_text|>",
    )
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS})
    return tokenizer


def _codec() -> HiggsAudioV2TokenizerModel:
    config = HiggsAudioV2TokenizerConfig(
        target_bandwidths=[0.6],  # 0.6 kbps at 25 frames/s of 6-bit codes: 4 codebooks
        sample_rate=SAMPLE_RATE,
        codebook_size=CODEBOOK_SIZE,
        codebook_dim=8,
        acoustic_model_config=DacConfig(
            encoder_hidden_size=4,
            decoder_hidden_size=32,
            downsampling_ratios=[8, 5, 4, 2, 3],
            upsampling_ratios=[8, 5, 4, 2, 3],
            hidden_size=8,
        ),
        semantic_model_config=HubertConfig(
            hidden_size=8,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=16,
            conv_dim=(8,) * 7,
            num_conv_pos_embeddings=8,
            num_conv_pos_embedding_groups=2,
        ),
    )
    codec = HiggsAudioV2TokenizerModel(config)
    with torch.no_grad():  # codebooks start as zeros; random ones make audible noise
        for quantizer in codec.quantizer.quantizers:
            quantizer.codebook.embed.normal_()
    return codec


def _model(
    tokenizer: PreTrainedTokenizerFast, num_codebooks: int
) -> HiggsAudioV2ForConditionalGeneration:
    ids = tokenizer.convert_tokens_to_ids
    config = HiggsAudioV2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=4096,
        num_codebooks=num_codebooks,
        codebook_size=CODEBOOK_SIZE + 2,
        audio_stream_bos_id=STREAM_BOS,
        audio_stream_eos_id=STREAM_EOS,
        audio_token_id=ids("<|AUDIO_OUT|>"),
        audio_bos_token_id=ids("<|audio_out_bos|>"),
        audio_delay_token_id=ids("<|reserved_special_token_6|>"),
        pad_token_id=ids("<|end_of_text|>"),
        bos_token_id=ids("<|begin_of_text|>"),
        eos_token_id=ids("<|eot_id|>"),
    )
    model = HiggsAudioV2ForConditionalGeneration(config)
    # An untrained head would end the audio after a few random frames. With the stream
    # BOS/EOS rows at zero and the others large, a code always outscores them, so the
    # tiny model speaks until the provider's length budget (or a cancel) stops it.
    with torch.no_grad():
        head = model.audio_lm_head.weight.view(num_codebooks, CODEBOOK_SIZE + 2, -1)
        head.mul_(1000.0)
        head[:, STREAM_BOS:] = 0.0
    return model


# Released checkpoints name their codec by its Hub repo; nothing of that name is here, so
# the provider must be given the codec's directory (CODEC_PATH).
CODEC_REFERENCE = "bosonai/higgs-audio-v2-tokenizer"


def build_tiny_higgs(directory: Path) -> tuple[Path, Path]:
    """Save a tiny checkpoint into `directory`, its codec into a sibling: (model, codec)."""
    tokenizer = _tokenizer()
    codec = _codec()
    codec_dir = directory / "tokenizer"
    codec.save_pretrained(codec_dir)
    codec.name_or_path = CODEC_REFERENCE  # what processor_config.json references
    directory = directory / "generation"
    _model(tokenizer, codec.config.num_quantizers).save_pretrained(directory)
    HiggsAudioV2Processor(
        DacFeatureExtractor(sampling_rate=SAMPLE_RATE, hop_length=HOP),
        tokenizer,
        codec,
        chat_template=CHAT_TEMPLATE,
        audio_stream_bos_id=STREAM_BOS,
        audio_stream_eos_id=STREAM_EOS,
    ).save_pretrained(directory)
    return directory, codec_dir
