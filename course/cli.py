"""The `backprop-course` command line.

Each subcommand lives in its own module and exposes two functions:
``add_arguments(parser)`` and ``run(args) -> int`` (the exit status).
Subcommand modules keep heavy imports (nbgrader, jupyter) inside ``run`` so that
``--help`` stays fast and works without the optional extras.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from course import __version__

# name -> (module, one-line help). Add a subcommand by adding a row here.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "start": ("course.launch", "open JupyterLab on the learner notebooks"),
    "progress": ("course.progress", "list every exercise with pass / fail / not started"),
    "release": ("course.release", "regenerate the learner notebooks from solutions/ (nbgrader)"),
    "grade": ("course.grading", "grade a class's submissions into a gradebook CSV + feedback"),
    "lite": ("course.lite", "build the course as a website that runs in the browser (no server)"),
    "export": ("course.grading.exports", "graded class -> Canvas / Moodle CSV, Gradescope JSON"),
}

EPILOG = """\
examples:
  backprop-course start                      open the course in JupyterLab
  backprop-course release --check            fail if notebooks/ is out of date
  backprop-course grade 03-linear-layer submissions/ --out grades/
  backprop-course lite build --out _site     the course as a website that runs in the browser
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backprop-course",
        description="Learn backpropagation by building it: notebooks, checks, grading.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"backprop-course {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            # The subcommand's module is missing or needs an optional extra.
            p.set_defaults(_missing=True)
            continue
        module.add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if getattr(args, "_missing", False):
        module_name = args._module
        try:
            importlib.import_module(module_name)
        except ImportError as exc:
            print(
                f"backprop-course {args.command}: needs a package that is not installed "
                f"({exc}).\nInstall the extras with: pip install 'backprop-course[instructor,lab]'",
                file=sys.stderr,
            )
            return 2
    module = importlib.import_module(args._module)
    return int(module.run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
