"""Command-line tools of the router."""
