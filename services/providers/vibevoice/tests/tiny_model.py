"""A tiny random VibeVoice checkpoint: the real classes, a few layers, a small codec.

Saved as a Hub checkpoint is laid out (model with its acoustic and semantic tokenizers,
processor with tokenizer and chat template, generation config naming the noise scheduler),
so the provider loads it through the real `from_pretrained` path. The audio is noise; every
step from text to waveform is real, the diffusion head and streaming codec included.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    PreTrainedTokenizerFast,
    Qwen2Config,
    VibeVoiceAcousticTokenizerConfig,
    VibeVoiceAcousticTokenizerEncoderConfig,
    VibeVoiceAcousticTokenizerFeatureExtractor,
    VibeVoiceConfig,
    VibeVoiceForConditionalGeneration,
    VibeVoiceProcessor,
)

SAMPLE_RATE = 24_000
HOP = 3200  # 7.5 frames a second, as the real codec
RATIOS = [2, 2, 4, 5, 5, 8]

# The prompt layout of the released checkpoints: voices of the speakers that have a
# reference, then every turn, then the audio BOS that generation continues from.
CHAT_TEMPLATE = """{{- " Transform the text provided by various speakers into speech output, \
utilizing the distinct voice of each respective speaker.\\n" -}}
{%- set ns = namespace(voiced=[]) -%}
{%- for message in messages -%}
{%- if message['content'] | selectattr('type', 'equalto', 'audio') | list
      and message['role'] not in ns.voiced -%}
{%- set ns.voiced = ns.voiced + [message['role']] -%}
{%- endif -%}
{%- endfor -%}
{%- if ns.voiced -%}
{{ " Voice input:\\n" }}
{%- for speaker in ns.voiced -%}
{{ " Speaker " ~ speaker ~ ":<|vision_start|><|vision_pad|><|vision_end|>\\n" }}
{%- endfor -%}
{%- endif -%}
{{ " Text input:\\n" }}
{%- for message in messages -%}
{%- for item in message['content'] | selectattr('type', 'equalto', 'text') -%}
{{ " Speaker " ~ message['role'] ~ ": " ~ item['text'] ~ "\\n" }}
{%- endfor -%}
{%- endfor -%}
{{ " Speech output:\\n<|vision_start|>" }}"""

# <|vision_pad|> (the "make another audio frame" token) gets the lowest id of the four
# tokens VibeVoice may generate: see `_model`.
SPECIAL_TOKENS = ["<|vision_pad|>", "<|endoftext|>", "<|vision_start|>", "<|vision_end|>"]


def _tokenizer() -> PreTrainedTokenizerFast:
    """Byte-level BPE with no merges: every byte one token, plus VibeVoice's special tokens."""
    vocab = {ch: i for i, ch in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens(SPECIAL_TOKENS)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=[t for t in SPECIAL_TOKENS if t != "<|endoftext|>"],
    )


TEXT_WIDTH = 32


def _model(tokenizer: PreTrainedTokenizerFast) -> VibeVoiceForConditionalGeneration:
    ids = tokenizer.convert_tokens_to_ids
    # Initialised as released checkpoints are, the tiny codec would whisper below one 16-bit
    # step; larger layer scales and weights make its noise audible.
    codec = {
        "hidden_size": 8,
        "num_filters": 2,
        "downsampling_ratios": RATIOS,
        "depths": [1] * 7,
        "layer_scale_init_value": 1.0,
        "initializer_range": 0.1,
    }
    config = VibeVoiceConfig(
        text_config=Qwen2Config(
            vocab_size=len(tokenizer),
            hidden_size=TEXT_WIDTH,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=4096,
            tie_word_embeddings=False,
        ),
        audio_config=VibeVoiceAcousticTokenizerConfig(**codec, ffn_expansion=1),
        semantic_model_config=VibeVoiceAcousticTokenizerEncoderConfig(**codec, ffn_expansion=1),
        # Its widths named: transformers 5.17 (a GPU machine's, make test-cuda) takes them
        # from the text and audio configs only when no head config is given at all.
        diffusion_head_config={
            "hidden_size": TEXT_WIDTH,
            "latent_size": codec["hidden_size"],
            "num_hidden_layers": 1,
            "intermediate_size": 32,
            "frequency_embedding_size": 16,
        },
        pad_token_id=ids("<|endoftext|>"),
        eos_token_id=ids("<|endoftext|>"),
        audio_bos_token_id=ids("<|vision_start|>"),
        audio_eos_token_id=ids("<|vision_end|>"),
        audio_token_id=ids("<|vision_pad|>"),
    )
    model = VibeVoiceForConditionalGeneration(config)
    # An untrained head would stop at once or at random. With the four tokens VibeVoice may
    # generate scoring alike, greedy choice takes the lowest id, the next-audio-frame token,
    # so the tiny model speaks until the provider's length budget (or a cancel) stops it.
    with torch.no_grad():
        model.lm_head.weight[[ids(token) for token in SPECIAL_TOKENS]] = 0.0
    generation = model.generation_config
    generation.noise_scheduler_class = "DPMSolverMultistepScheduler"
    generation.noise_scheduler_config = {
        "beta_schedule": "squaredcos_cap_v2",
        "prediction_type": "v_prediction",
    }
    return model


def build_tiny_vibevoice(directory: Path) -> Path:
    """Save a tiny checkpoint into `directory`."""
    tokenizer = _tokenizer()
    _model(tokenizer).save_pretrained(directory)
    VibeVoiceProcessor(
        VibeVoiceAcousticTokenizerFeatureExtractor(
            sampling_rate=SAMPLE_RATE, pad_to_multiple_of=HOP
        ),
        tokenizer,
        chat_template=CHAT_TEMPLATE,
    ).save_pretrained(directory)
    return directory
