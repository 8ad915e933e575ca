#!/usr/bin/env bash
# `make test`: every check, cheapest first. A failing step does not stop the ones after it; the run ends with
# each step's result and time, then one summary line, and exits non-zero when any step failed.
# STEPS="ruff unit" limits the run to those steps. The image step (rootful podman and the Debian image) comes
# before the tests because some unit and integration tests start containers from that image.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
make_cmd="${MAKE:-make}"
read -r -a steps <<<"${STEPS:-ruff yamllint ansible-lint image unit build ee sanity integration molecule}"

started_all=$SECONDS
# Without the virtualenv and the collections no step can run: stop here, but still end with a summary.
if ! "$make_cmd" --no-print-directory venv collections; then
    echo "make test: preparing .venv and .build/collections failed"
    echo "make-test: 0 passed, ${#steps[@]} failed"
    exit 1
fi

passed=()
failed=()
report=()
for step in "${steps[@]}"; do
    echo
    echo "==== make $step"
    started=$SECONDS
    if "$make_cmd" --no-print-directory "$step"; then
        passed+=("$step")
        result=passed
    else
        failed+=("$step")
        result=FAILED
    fi
    report+=("$(printf '  %-13s %-7s %5d s' "$step" "$result" $((SECONDS - started)))")
done

echo
echo "==== make test: steps (total $((SECONDS - started_all)) s)"
printf '%s\n' "${report[@]}"
echo "make test: passed: ${passed[*]:-none}; failed: ${failed[*]:-none}"
# The last line has the plain "N passed, N failed" form that CI reads.
echo "make-test: ${#passed[@]} passed, ${#failed[@]} failed"
((${#failed[@]} == 0))
