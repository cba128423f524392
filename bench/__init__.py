"""Benchmarks. `python -m bench` runs every `bench_*.py` module here.

Each module has `run() -> dict` returning named measurements. Timings are reported next
to a baseline measured in the same run, so the ratios mean the same on any machine.
"""
