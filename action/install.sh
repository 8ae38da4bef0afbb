#!/usr/bin/env bash
# Installs mintcheck into its own venv and puts it on the job's PATH.
# Inputs: INPUT_VERSION (empty = latest), INPUT_INSTALL_FROM (a requirement or wheel path).
set -euo pipefail
venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mintcheck-venv"
requirement="${INPUT_INSTALL_FROM:-}"
if [ -z "$requirement" ]; then
  requirement="mintcheck${INPUT_VERSION:+==$INPUT_VERSION}"
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement"
echo "$venv/bin" >> "${GITHUB_PATH:?GITHUB_PATH names the file of PATH additions}"
"$venv/bin/mintcheck" --version
