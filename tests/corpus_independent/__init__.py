"""Independent held-out corpus of wrong and right learner answers, one module per exercise.

Written without looking at course/checks.py, course/_diagnose.py or the other corpora.
`all_cases()` imports every module and returns the registered cases.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._registry import CASES, Case


def all_cases() -> list[Case]:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return CASES
