"""Placeholder until the harness lands (the harness engineer replaces this file)."""
