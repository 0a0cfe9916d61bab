#!/usr/bin/env bash
# Build the Gradescope autograder zip for one assignment, from the committed repository:
#     autograder/make_bundle.sh 03-linear-layer [OUT.zip]
# The zip holds setup.sh and run_autograder at its root (as Gradescope requires), ASSIGNMENT
# (the assignment name) and course/ (this repository at HEAD: `git archive`, so commit first).
set -euo pipefail
ASSIGNMENT="${1:?usage: autograder/make_bundle.sh ASSIGNMENT [OUT.zip]}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${2:-$PWD/autograder-$ASSIGNMENT.zip}"
if [ ! -d "$REPO/solutions/$ASSIGNMENT" ]; then
    echo "make_bundle: no solutions/$ASSIGNMENT in $REPO" >&2
    exit 2
fi
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp "$REPO/autograder/setup.sh" "$REPO/autograder/run_autograder" "$STAGE/"
printf '%s\n' "$ASSIGNMENT" > "$STAGE/ASSIGNMENT"
mkdir "$STAGE/course"
git -C "$REPO" archive --format=tar HEAD | tar -x -C "$STAGE/course"
python3 - "$STAGE" "$OUT" <<'PY'
import os, sys, zipfile
stage, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in os.walk(stage):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            info = zipfile.ZipInfo.from_file(path, os.path.relpath(path, stage))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                z.writestr(info, f.read())  # keeps the executable bits of the scripts
print(out)
PY
