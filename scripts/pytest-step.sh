#!/usr/bin/env bash
# Run pytest on one test directory. pytest exits 5 when it collects no test; that counts as a pass only while the
# directory holds no test_*.py file at all (a suite that exists must run something).
# Usage: scripts/pytest-step.sh DIR [pytest options]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
directory="$1"
shift

cd "$root"
if [[ ! -d "$directory" ]]; then
    echo "pytest-step: $directory does not exist yet; nothing to run"
    exit 0
fi
status=0
"$root/.venv/bin/pytest" "$directory" "$@" || status=$?
if ((status == 5)); then
    if [[ -z "$(find "$directory" -name 'test_*.py' -print -quit 2>/dev/null)" ]]; then
        echo "pytest-step: $directory has no test files yet; nothing to run"
        exit 0
    fi
    echo "pytest-step: $directory has test files but pytest collected no test" >&2
fi
exit "$status"
