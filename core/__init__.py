"""Shared plumbing that every layer may use and that imports none of them (docs/ARCHITECTURE.md)."""
