"""Benchmarks of source-meetlog against the local Meetlog API: `python -m bench.run_benchmarks`.

Not tests: they print a table (see BENCHMARKS.md) and take minutes, because the rate limit
they measure against is the real one, 60 requests per 60 seconds per key.
"""
