"""A case's random generator reaches the learner's function in the jail as the same stream."""

import numpy as np

from course._diagnose import Case, Rng
from course.grading import wire


def test_a_checks_generator_crosses_the_wire_by_its_seed():
    (gen,), _ = Case({"rng": Rng(7)}, ()).call_args()
    assert isinstance(gen, np.random.Generator)
    encoded = wire.encode(gen, markers=True)
    assert encoded == {"rng": 7}
    decoded = wire.decode(encoded, markers=True, rng_factory=np.random.default_rng)
    assert np.array_equal(decoded.random(5), np.random.default_rng(7).random(5))
    assert np.array_equal(gen.random(5), np.random.default_rng(7).random(5))
    # without markers (the jail's side) a generator stays opaque
    assert "o" in wire.encode(np.random.default_rng(7))
