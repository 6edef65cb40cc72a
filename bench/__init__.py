"""Benchmarks: run them all with ``make bench`` (see bench/README.md)."""
