"""Instructor grading on top of nbgrader: ``backprop-course grade``.

    backprop-course grade ASSIGNMENT SUBMISSIONS --out DIR [--jobs N] [--timeout S] [--memory MB]

Grades every ``SUBMISSIONS/<student_id>/<notebook>.ipynb`` (or a zip of such a folder) against
``solutions/ASSIGNMENT`` in a fresh sandboxed process per submission, and writes
``DIR/grades.csv`` and ``DIR/feedback/<student_id>/ASSIGNMENT.html``.  See docs/grading.md.

Heavy imports happen inside :func:`run` so ``backprop-course --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``grade`` subcommand."""
    parser.add_argument("assignment", metavar="ASSIGNMENT",
                        help="assignment name, e.g. 03-linear-layer (a folder in solutions/)")
    parser.add_argument("submissions", metavar="SUBMISSIONS", type=Path,
                        help="folder of <student_id>/<notebook>.ipynb, or a zip of one")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="output folder: grades.csv, feedback/, .cache/ (for re-runs)")
    parser.add_argument("--jobs", type=int, default=_default_jobs(), metavar="N",
                        help="submissions graded at once (default: number of cores)")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="S",
                        help="wall-clock seconds per submission (default: 300)")
    parser.add_argument("--memory", type=int, default=2048, metavar="MB",
                        help="memory (address space) limit per submission in MiB (default: 2048)")
    parser.add_argument("--source-dir", type=Path, default=Path("solutions"),
                        help="nbgrader source folder (default: solutions)")
    parser.add_argument("--release-dir", type=Path, default=Path("notebooks"),
                        help="released learner notebooks, to detect edited test cells "
                             "(default: notebooks)")
    parser.add_argument("--quiet", action="store_true", help="no progress or summary output")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run learner code WITHOUT the bubblewrap jail (still in a separate "
                             "process, judged through plain values); for trusted code only, "
                             "for example your own solutions on a machine without bwrap")
    parser.add_argument("--skip-self-check", action="store_true",
                        help="do not grade the solution first (normally it must earn full marks "
                             "in the sandbox, or nothing is graded)")


def run(args: argparse.Namespace) -> int:
    """Grade a class; 0 when every submission got a row."""
    from course.grading.runner import Options, main

    if args.jobs < 1 or args.timeout <= 0 or args.memory < 256:
        print("backprop-course grade: --jobs >= 1, --timeout > 0 and --memory >= 256 please",
              file=sys.stderr)
        return 2
    opts = Options(jobs=args.jobs, timeout=args.timeout, memory_mb=args.memory, quiet=args.quiet,
                   self_check=not args.skip_self_check, sandbox=not args.no_sandbox)
    try:
        return main(args.assignment, args.submissions, args.out, opts,
                    source_dir=args.source_dir, release_dir=args.release_dir)
    except KeyboardInterrupt:
        print("backprop-course grade: interrupted before grading started", file=sys.stderr)
        return 130
