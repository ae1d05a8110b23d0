"""Benchmark scripts (run each from the repository root); a package so mypy checks them."""
