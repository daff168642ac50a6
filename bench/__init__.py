"""Benchmarks of bordersim: the event core raced against peer libraries.

Run `python -m bench.peers` (or `make bench`).
"""
