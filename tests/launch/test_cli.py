"""The backprop-course command line."""

import subprocess
import sys

import course
from course.cli import SUBCOMMANDS, main


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert course.__version__ in capsys.readouterr().out


def test_help_lists_subcommands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_console_script_installed():
    result = subprocess.run([sys.executable, "-m", "course.cli", "--help"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "backprop" in result.stdout.lower()
