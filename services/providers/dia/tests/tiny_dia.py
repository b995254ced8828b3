"""A tiny random Dia of the real architecture, saved as a model directory the provider loads.

Few layers, small widths, three codebooks instead of nine, and a DAC codec to match; the
tokenizer and feature extractor are Dia's own. Its generation config never samples EOS, so
every generation runs for exactly `max_new_tokens` steps (noise, but every step is real).
"""

from __future__ import annotations

from pathlib import Path

from transformers import (
    DacConfig,
    DacModel,
    DiaConfig,
    DiaDecoderConfig,
    DiaEncoderConfig,
    DiaFeatureExtractor,
    DiaForConditionalGeneration,
    DiaTokenizer,
    GenerationConfig,
)

CODEBOOKS = 3
DELAY_PATTERN = [0, 1, 2]
SAMPLE_RATE = 44_100
HOP = 512  # the product of DAC's downsampling ratios, as in descript/dac_44khz


def save_tiny_dia(root: Path) -> Path:
    """Write config, weights, tokenizer, feature extractor and codec/ under `root`."""
    encoder = DiaEncoderConfig(
        num_hidden_layers=1,
        hidden_size=32,
        intermediate_size=64,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=16,
        vocab_size=256,
    )
    decoder = DiaDecoderConfig(
        num_hidden_layers=1,
        hidden_size=32,
        intermediate_size=64,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        cross_num_attention_heads=2,
        cross_head_dim=16,
        cross_num_key_value_heads=2,
        cross_hidden_size=32,
        num_channels=CODEBOOKS,
    )
    model = DiaForConditionalGeneration(
        DiaConfig(encoder_config=encoder, decoder_config=decoder, delay_pattern=DELAY_PATTERN)
    )
    # Dia-1.6B's sampling settings, plus a floor on length so that random weights never end early.
    model.generation_config = GenerationConfig(
        do_sample=True,
        guidance_scale=3.0,
        temperature=1.8,
        top_p=0.9,
        top_k=45,
        min_new_tokens=100_000,
        bos_token_id=decoder.bos_token_id,
        eos_token_id=decoder.eos_token_id,
        pad_token_id=decoder.pad_token_id,
    )
    model.save_pretrained(root)
    DiaTokenizer().save_pretrained(root)
    DiaFeatureExtractor(sampling_rate=SAMPLE_RATE, hop_length=HOP).save_pretrained(root)
    codec = DacModel(
        DacConfig(
            encoder_hidden_size=8,
            decoder_hidden_size=16,
            hidden_size=32,
            n_codebooks=CODEBOOKS,
            codebook_size=1024,
            codebook_dim=4,
            downsampling_ratios=[2, 4, 8, 8],
            upsampling_ratios=[8, 8, 4, 2],
            sampling_rate=SAMPLE_RATE,
        )
    )
    codec.save_pretrained(root / "codec")
    return root
