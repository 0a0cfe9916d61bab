"""Every check against the tuning corpus (tests/feedback/corpus): right answers pass with one line
on stdout, wrong answers fail naming the wrong output and the mistake, nothing goes to stderr."""

from __future__ import annotations

import pytest
from answers import Answer, load

from course import checks
from course._diagnose import CheckFailure, NotDoneYet
from course.exercises import exercises as registry_exercises

MODULES = [
    "basics", "layers", "losses", "network", "optim", "deep", "why12", "generalization",
    "autograd",
]
ENTRIES = load("corpus", MODULES)
RIGHT = [e for e in ENTRIES if e.right]
WRONG = [e for e in ENTRIES if not e.right]

# The issue's list of mistakes: each must be in the corpus and be recognised.
LISTED_MISTAKES = {
    "transposed",
    "batch_size",
    "sign",
    "dout_ignored",
    "output_for_input",
    "reduction_axis",
    "order",
    "no_max_subtraction",
    "one_hot",
    "forward_difference",
    "x_not_restored",
    "old_state",
    "no_bias_correction",
    "t_off_by_one",
    "mutates_input",
}

# Fragments of reference solutions that must never appear in a failure message.
SOLUTION_CODE = [
    "dout @ W.T",
    "x.T @ dout",
    "dout.sum(axis=0)",
    "np.maximum(x, 0)",
    "1 / (1 + np.exp(-x))",
    "np.exp(shifted)",
    "grad[idx] =",
    "return w - lr",
    "m_new / (1 - beta1",
    "rng.random(x.shape) >= p)",
]


def _has_words(entry: Answer, text: str) -> None:
    """The entry's words are in the text ("!word": not in it)."""
    for word in entry.words:
        if word.startswith("!"):
            assert word[1:] not in text, f"{entry.id}: {word[1:]!r} should not be said:\n{text}"
        else:
            assert word in text, f"{entry.id}: {word!r} is missing:\n{text}"


def test_issue_12_cases_are_in_the_corpus():
    """Every case of issue 12's Why section is an entry with its verdict and words."""
    why = [e for e in ENTRIES if e.fn.__module__ == "corpus.why12"]
    assert len([e for e in why if e.right]) >= 6 and len([e for e in why if not e.right]) >= 14
    assert all(e.words for e in why if e.exercise != "dropout_forward")


def check_for(entry: Answer):
    return getattr(checks, f"check_{entry.exercise}")


def test_every_check_has_right_and_wrong_entries():
    exercises = {ex.name for ex in registry_exercises(kind="function")}
    assert exercises <= {e.exercise for e in RIGHT}
    assert exercises <= {e.exercise for e in WRONG}


def test_listed_mistakes_are_covered():
    assert LISTED_MISTAKES <= {e.mistake for e in WRONG}


@pytest.mark.parametrize("entry", RIGHT, ids=lambda e: e.id)
def test_right_answer_passes(entry: Answer, capsys: pytest.CaptureFixture[str]) -> None:
    check_for(entry)(entry.fn)
    out = capsys.readouterr()
    assert out.err == ""
    lines = out.out.strip().splitlines()
    assert lines[0].startswith(f"{entry.exercise}: all good"), out.out
    # one line, plus at most one note on the dtype (issue 12's policy: values decide)
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].strip().startswith("Note:")), out.out
    _has_words(entry, out.out)


@pytest.mark.parametrize("entry", WRONG, ids=lambda e: e.id)
def test_wrong_answer_is_diagnosed(entry: Answer, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(AssertionError) as info:
        check_for(entry)(entry.fn)
    failure = info.value
    assert isinstance(failure, CheckFailure)
    message = str(failure)
    first = message.splitlines()[0]
    assert first.startswith(entry.exercise), message
    if entry.output is not None:
        assert failure.output == entry.output, message
        assert entry.output in first, message
    assert failure.mistake == entry.mistake, message
    assert "Traceback" not in message
    assert not any(code in message for code in SOLUTION_CODE), message
    assert len(message.splitlines()) <= 8, message
    _has_words(entry, message)
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


def test_not_started_is_its_own_failure():
    entry = next(e for e in WRONG if e.mistake == "not_started")
    with pytest.raises(NotDoneYet, match="not done yet"):
        check_for(entry)(entry.fn)


def test_worst_entry_is_shown_with_reading_scale():
    from corpus.layers import lin_bwd_mean_dW

    with pytest.raises(AssertionError) as info:
        checks.check_linear_backward(lin_bwd_mean_dW)
    message = str(info.value)
    assert "worst entry dW[" in message
    assert "expected" in message and "got" in message
    assert "relative error" in message and ": wrong)" in message
    assert "1/N" in message and "N = 4" in message
