"""HTTP handlers, one module per concern."""
