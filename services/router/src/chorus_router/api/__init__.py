"""HTTP routers: the only layer that sees the wiring object (services.py)."""
