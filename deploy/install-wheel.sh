#!/bin/sh
# Install pressgate's wheel, with its dependencies, into a new virtual environment.
# Usage: deploy/install-wheel.sh VENV_DIR WHEEL_DIR
# The Dockerfile and tests/deploy/test_wheel.py both run this script.
set -eu
python3 -m venv "$1"
"$1/bin/pip" install --quiet --disable-pip-version-check "$2"/pressgate-*.whl
