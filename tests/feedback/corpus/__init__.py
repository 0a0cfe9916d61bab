"""Learner-style implementations of every exercise, right and wrong, for testing the checks.

Each module registers functions with ``@right(exercise)`` or
``@wrong(exercise, output, mistake)``; ``output`` is the name the failure message must name
first and ``mistake`` the tag of the mistake the check should recognise (see
course/_diagnose.py for the tags). The checks were tuned on this corpus; ``corpus_fresh``
is the held-out set they were never tuned on.
"""
