"""Helpers for cross-service tests: real processes on free 127.0.0.1 ports."""
