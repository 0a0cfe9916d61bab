"""nbgrader configuration for backprop-course (read by every `nbgrader` command run here).

Layout: one assignment per notebook.
    solutions/NN-topic/NN-topic.ipynb   instructor source (solutions + hidden tests)
    notebooks/NN-topic/NN-topic.ipynb   learner release (generated, committed)

Regenerate every learner notebook with `backprop-course release` (stock
`nbgrader generate_assignment NN-topic` works too); `backprop-course release --check`
fails when notebooks/ is out of date.
"""

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "backprop-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# Only notebooks (and nothing else that may lie around in a solutions folder) are released.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    ".DS_Store",
]

# generate_assignment creates the gradebook entry itself (no separate `nbgrader db assignment add`).
c.GenerateAssignment.create_assignment = True

# Per-cell timeout (seconds) while autograding or validating.  The slowest solution cell
# (training the capstone MLP on the digits) takes a few seconds; a learner's slower code gets
# generous headroom, and an endless loop costs two minutes, not forever.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# A learner who deletes or reorders a graded or locked cell gets it back when autograded.
c.OverwriteCells.add_missing_cells = True

# nbgrader scores any stderr output in a test cell as a failure.  Ordinary warnings (NumPy
# RuntimeWarning, DeprecationWarning, matplotlib UserWarning, ...) must not zero a right answer:
# drop stderr streams that consist of warning messages.  Errors are `error` outputs, not stderr,
# so they still fail the cell.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)^.*:\d+: \w*Warning: "

# Keep feedback and autograded notebooks readable: cap very long outputs.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 50
