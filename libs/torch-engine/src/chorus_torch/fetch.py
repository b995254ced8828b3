"""Fetch pinned Hugging Face revisions into a model directory: the operator's init container.

    python -m chorus_torch.fetch --dest /models nari-labs/Dia-1.6B-0626@<rev> \\
        descript/dac_44khz@<rev>:codec

The first repo fills the directory itself, each `:path` one a folder inside it. A token for
gated repos comes from HF_TOKEN, which the library reads itself; it is never printed.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import snapshot_download
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

_WANTED = re.compile(
    r"^(?P<repo>[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)@(?P<revision>[\w./-]+)"
    r"(?::(?P<path>[A-Za-z0-9_][\w.-]*(?:/[A-Za-z0-9_][\w.-]*)*))?$"
)


@dataclass(frozen=True)
class Wanted:
    repo: str
    revision: str
    path: str


def parse_wanted(text: str) -> Wanted:
    match = _WANTED.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not owner/name@revision[:path]")
    return Wanted(match["repo"], match["revision"], match["path"] or "")


def fetch(dest: Path, wanted: list[Wanted]) -> None:
    for item in wanted:
        target = dest / item.path
        print(f"fetching {item.repo}@{item.revision} into {target}", flush=True)
        snapshot_download(item.repo, revision=item.revision, local_dir=target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fetch model weights for a Chorus provider")
    parser.add_argument("--dest", type=Path, required=True)
    parser.add_argument("wanted", nargs="+", type=parse_wanted, help="owner/name@revision[:path]")
    args = parser.parse_args(argv)
    try:
        fetch(args.dest, args.wanted)
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        print(f"fetching the model failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
