"""A random Chatterbox checkpoint, in exactly the files `ChatterboxTTS.from_local` reads.

The modules are the package's own, built at the small sizes of `tiny_sizes.shrink()` (the
provider under test runs with the same sizes) and saved with their random initialisation.
"""

from __future__ import annotations

import gc
import io
import sys
from pathlib import Path

import torch
from chatterbox.models.s3gen import S3Gen
from chatterbox.models.t3 import T3
from chatterbox.models.tokenizers.tokenizer import SPECIAL_TOKENS
from chatterbox.models.voice_encoder import VoiceEncoder
from chatterbox.tts import ChatterboxTTS
from safetensors.torch import save_file
from tiny_sizes import shrink
from tokenizers import Tokenizer, models

from chorus_provider.testing import reference_wav

# T3's English text embedding has 704 rows; our character vocabulary stays below that.
_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-()"


def _tokenizer() -> Tokenizer:
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    for char in _CHARACTERS:
        vocab.setdefault(char, len(vocab))
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="[UNK]"))
    tokenizer.add_special_tokens(SPECIAL_TOKENS)
    return tokenizer


def _save(module: torch.nn.Module, path: Path) -> None:
    state = {k: v.detach().contiguous() for k, v in module.state_dict().items()}
    save_file(state, str(path))


def make_checkpoint(directory: Path, *, builtin_voice: bool = True) -> Path:
    """Write ve/t3_cfg/s3gen safetensors, tokenizer.json and (optionally) conds.pt."""
    directory.mkdir(parents=True, exist_ok=True)
    shrink()
    torch.manual_seed(0)
    ve, t3, s3gen = VoiceEncoder().eval(), T3().eval(), S3Gen().eval()
    _save(ve, directory / "ve.safetensors")
    _save(t3, directory / "t3_cfg.safetensors")
    _save(s3gen, directory / "s3gen.safetensors")
    _tokenizer().save(str(directory / "tokenizer.json"))
    if builtin_voice:
        # The released conds.pt is this same computation run on a reference recording.
        from chatterbox.models.tokenizers import EnTokenizer

        model = ChatterboxTTS(t3, s3gen, ve, EnTokenizer(str(directory / "tokenizer.json")), "cpu")
        model.prepare_conditionals(io.BytesIO(reference_wav(seconds=3.0)), exaggeration=0.5)
        model.conds.save(directory / "conds.pt")
    del ve, t3, s3gen
    gc.collect()
    return directory


if __name__ == "__main__":
    make_checkpoint(Path(sys.argv[1]))
