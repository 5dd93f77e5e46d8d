#!/bin/sh
# Build pressgate's wheel (no dependencies) from the source tree into a folder.
# Usage: deploy/build-wheel.sh SOURCE_DIR WHEEL_DIR
# The Dockerfile and tests/deploy/test_wheel.py both run this script. It builds from a
# clean copy of what the wheel is made of, so a stale build/ folder in a checkout cannot
# slip old files into it.
set -eu
src=$(cd "$1" && pwd)
out=$(mkdir -p "$2" && cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$src" && tar -cf - --exclude=__pycache__ --exclude='*.pyc' \
    pyproject.toml setup.py README.md approvals bot templates deploy/pressgate.example.toml) \
    | (cd "$work" && tar -xf -)
python3 -m pip wheel --no-deps --no-cache-dir --quiet --wheel-dir "$out" "$work"
