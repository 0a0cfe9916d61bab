#!/usr/bin/env bash
# Gradescope image set-up: runs once, as root, when the autograder is built.
# The bundle (see autograder/README.md) is unzipped into /autograder/source; the course
# repository is in /autograder/source/course.
set -euxo pipefail
SOURCE_DIR="${SOURCE_DIR:-/autograder/source}"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# bubblewrap: the jail every submission runs in; python3-venv: an isolated install of the course
apt-get install -y -qq bubblewrap python3 python3-pip python3-venv >/dev/null

python3 -m venv /opt/backprop-course
/opt/backprop-course/bin/pip install -q --upgrade pip
/opt/backprop-course/bin/pip install -q "$SOURCE_DIR/course[instructor]"
ln -sf /opt/backprop-course/bin/backprop-course /usr/local/bin/backprop-course

backprop-course --version
command -v bwrap
