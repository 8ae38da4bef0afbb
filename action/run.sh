#!/usr/bin/env bash
# Runs `mintcheck run` or `mintcheck fuzz` from the action's inputs (INPUT_* variables);
# mintcheck's exit code is the step's.
set -euo pipefail
args=()
[ -n "${INPUT_TARGET_CMD:-}" ] && args+=(--target-cmd "$INPUT_TARGET_CMD")
[ -n "${INPUT_TARGET_URL:-}" ] && args+=(--target-url "$INPUT_TARGET_URL")
[ -n "${INPUT_CONTROL_TOKEN:-}" ] && args+=(--control-token "$INPUT_CONTROL_TOKEN")
# Word-split on purpose, as one would type them; globs such as 'github/*' stay as written.
set -f
# shellcheck disable=SC2206
extra=(${INPUT_ARGS:-})
set +f

case "${INPUT_MODE:-run}" in
  run)
    [ -n "${INPUT_LEVEL:-}" ] && args+=(--level "$INPUT_LEVEL")
    [ -n "${INPUT_EXPECTATIONS:-}" ] && args+=(--expectations "$INPUT_EXPECTATIONS")
    junit="${INPUT_JUNIT:-mintcheck-junit.xml}"
    # ${a[@]+...}: an empty array under `set -u` on the bash 3.2 of macOS runners.
    exec mintcheck run ${args[@]+"${args[@]}"} --format junit --output "$junit" \
      ${extra[@]+"${extra[@]}"}
    ;;
  fuzz)
    findings="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mintcheck-findings"
    mkdir -p "$findings"
    echo "findings=$findings" >> "${GITHUB_OUTPUT:-/dev/null}"
    if [ -z "${INPUT_SEED:-}" ] && [ "${INPUT_SHARD:-1/1}" != "1/1" ]; then
      echo "mintcheck action: shard ${INPUT_SHARD} needs a seed shared by every shard" >&2
      exit 2
    fi
    [ -n "${INPUT_SEED:-}" ] && args+=(--seed "$INPUT_SEED")
    [ -n "${INPUT_DURATION:-}" ] && args+=(--duration "$INPUT_DURATION")
    exec mintcheck fuzz ${args[@]+"${args[@]}"} --shard "${INPUT_SHARD:-1/1}" \
      --save-failures "$findings" ${extra[@]+"${extra[@]}"}
    ;;
  *)
    echo "mintcheck action: mode is run or fuzz, not '${INPUT_MODE}'" >&2
    exit 2
    ;;
esac
