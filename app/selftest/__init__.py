"""Checks an operator runs on their own host: `python -m app selftest --hostile`."""
