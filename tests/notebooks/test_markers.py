"""The per-notebook markers (tests/conftest.py, support.notebook_markers) follow the registry:
`pytest -m nb08` finds a test by the exercise, grade id, folder or registry module it names."""

from __future__ import annotations

import pytest
from support import notebook_marker, notebook_markers

from course.exercises import exercises, notebooks


def test_every_notebook_has_a_marker_and_its_exercises_select_it() -> None:
    for notebook in notebooks():
        mark = notebook_marker(notebook)
        assert mark == f"nb{notebook[:2]}"
        assert notebook_markers([f"tests/notebooks/test_notebooks.py::x[{notebook}]"]) == [mark]
        for ex in exercises(notebook):
            assert mark in notebook_markers([f"tests/x.py::test_y[{ex.grade_id}]"]), ex.grade_id
            if ex.name:
                assert mark in notebook_markers([f"tests/x.py::test_{ex.name}_is_judged"]), ex.name


@pytest.mark.parametrize(("node", "marks"), [
    ("tests/feedback/test_checks_corpus.py::test_wrong_answer_is_diagnosed[momentum_step:cs231n]",
     ["nb08"]),
    ("tests/feedback/test_nb10_generalization.py::test_the_notebook_items", ["nb10"]),
    ("tests/grading/test_grading.py::test_every_assignment[08-optimizers]", ["nb08"]),
    ("tests/feedback/test_progress_feedback.py::test_a_choice[MC_ADAM_FIRST_STEP]", ["nb08"]),
    # a grade id only as a whole word: test_value is notebook 11's, test_value_range is not
    ("tests/library/test_layers.py::test_value_range", []),
    ("tests/feedback/test_registry.py::test_x[test_value]", ["nb11"]),
    # names inside longer names do not count: leaky_relu_forwardish is no exercise
    ("tests/library/test_layers.py::test_leaky_relu_forwarded", []),
    ("tests/library/test_optim.py::test_adam_matches_torch", []),
], ids=["corpus-answer", "registry-module", "folder", "choice", "grade-id-prefix", "grade-id",
        "longer-name", "library-name"])
def test_node_ids_select_their_notebooks(node: str, marks: list[str]) -> None:
    assert notebook_markers([node]) == marks
