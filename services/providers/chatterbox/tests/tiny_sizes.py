"""Chatterbox with its layer sizes cut down, so tests run its real code on a CPU.

Chatterbox fixes its sizes in code (T3's `LLAMA_CONFIGS` table and the arguments S3Gen
passes its parts), and `from_local` reads no config, so a small checkpoint needs the same
small sizes in the process that loads it. `shrink()` changes only those numbers (widths,
depths, head counts), in the checkpoint builder and, through `python tiny_sizes.py`, in the
real provider process under test; every module, the loader and the inference path are the
package's own. Interfaces between parts (80 mel bins, the 6561-token speech vocabulary,
the 192-wide x-vector, the 256-wide voice-encoder embedding) stay real.
"""

from __future__ import annotations

from typing import Any

_WIDTH = 64


def _with_sizes(cls: Any, **sizes: Any) -> None:
    original = cls.__init__

    def sized_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **{**kwargs, **sizes})

    cls.__init__ = sized_init


def shrink() -> None:
    """Apply the small sizes; call before any Chatterbox model is built. Idempotent."""
    from chatterbox.models.s3gen import s3gen
    from chatterbox.models.s3gen.decoder import ConditionalDecoder
    from chatterbox.models.s3gen.f0_predictor import ConvRNNF0Predictor
    from chatterbox.models.s3gen.flow import CausalMaskedDiffWithXvec
    from chatterbox.models.s3gen.hifigan import HiFTGenerator
    from chatterbox.models.s3gen.transformer.upsample_encoder import (
        PreLookaheadLayer,
        Upsample1D,
        UpsampleConformerEncoder,
    )
    from chatterbox.models.t3.llama_configs import LLAMA_CONFIGS
    from chatterbox.models.t3.modules.perceiver import Perceiver
    from s3tokenizer.model_v2 import ModelConfig, S3TokenizerV2

    if getattr(s3gen, "_chorus_shrunk", False):
        return
    s3gen._chorus_shrunk = True  # type: ignore[attr-defined]
    LLAMA_CONFIGS["Llama_520M"].update(
        hidden_size=_WIDTH,
        intermediate_size=2 * _WIDTH,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=_WIDTH // 2,
    )
    _with_sizes(Perceiver, pre_attention_query_size=_WIDTH, embedding_dim=_WIDTH, num_attn_heads=2)
    # Chatterbox's S3Tokenizer builds its parent with the default config: shrink that one
    # (its rotary table is fixed at 64 per head).
    _with_sizes(
        S3TokenizerV2, config=ModelConfig(n_audio_state=128, n_audio_head=2, n_audio_layer=1)
    )
    _with_sizes(
        UpsampleConformerEncoder,
        input_size=_WIDTH,
        output_size=_WIDTH,
        attention_heads=2,
        linear_units=_WIDTH,
        num_blocks=1,
    )
    _with_sizes(PreLookaheadLayer, channels=_WIDTH)
    _with_sizes(Upsample1D, channels=_WIDTH, out_channels=_WIDTH)
    _with_sizes(CausalMaskedDiffWithXvec, input_size=_WIDTH)
    _with_sizes(
        ConditionalDecoder,
        channels=[32],
        attention_head_dim=16,
        n_blocks=1,
        num_mid_blocks=1,
        num_heads=2,
    )
    _with_sizes(HiFTGenerator, base_channels=32)
    _with_sizes(ConvRNNF0Predictor, cond_channels=32)


if __name__ == "__main__":
    # The provider process under test: the real service, on the small sizes.
    import sys

    from chorus_provider.serve import serve

    shrink()
    serve(sys.argv[1], sys.argv[2:])
