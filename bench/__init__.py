"""Benchmarks (not timed tests): `python -m bench` runs them all and prints the figures.

They need a PostgreSQL server on 127.0.0.1:5432 (user postgres, trust authentication) for the
PostgreSQL half; without one that half is reported as skipped.
"""
