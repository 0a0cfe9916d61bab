#!/usr/bin/env bash
# Install the course into ./.venv (first run, or after pyproject.toml changed) and open it in
# JupyterLab. Works as an ordinary user and as root in a container; any option is passed on to
# `backprop-course start` (e.g. --no-browser, --port 9000, --ip 0.0.0.0).
#
#   bash scripts/start.sh
#
# Set PYTHON=/path/to/python3.11 to choose the interpreter (Python >= 3.11).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=.venv

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

stamp() {
    # Reinstall when the package's metadata changes (new dependency, new extra).
    cksum pyproject.toml | cut -d' ' -f1
}

if [ ! -x "$VENV/bin/backprop-course" ] || [ "$(cat "$VENV/.backprop-course-stamp" 2>/dev/null)" != "$(stamp)" ]; then
    if ! PY=$(find_python); then
        echo "start.sh: needs Python >= 3.11 (found none on PATH; set PYTHON=/path/to/python3)." >&2
        exit 1
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        echo "Creating a virtual environment in $VENV with $("$PY" --version 2>&1) ..."
        if ! "$PY" -m venv "$VENV"; then
            rm -rf "$VENV"
            echo "start.sh: could not create a virtual environment." >&2
            echo "On Debian/Ubuntu install it with: sudo apt-get install python3-venv" >&2
            exit 1
        fi
    fi
    echo "Installing the course and JupyterLab into $VENV (first run only, about a minute) ..."
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[lab]"
    stamp > "$VENV/.backprop-course-stamp"
fi

exec "$VENV/bin/backprop-course" start "$@"
