"""`python -m chorus_provider NAME [--config FILE]`: serve provider NAME, as `chorus-NAME` does."""

import sys

from chorus_provider.serve import serve

if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
    sys.exit("usage: python -m chorus_provider NAME [--config FILE]")
serve(sys.argv[1], sys.argv[2:])
