"""Held-out wrong (and right) answers: written before the diagnostics were tuned, never tuned on.

tests/test_checks_fresh.py measures how often the failure message names the wrong output
and the mistake on this set. Do not edit the checks to make a particular entry here pass.
"""
