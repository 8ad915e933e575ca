#!/usr/bin/env bash
# Run Molecule scenarios from the collection root: every scenario under extensions/molecule, or the ones named.
# Prepares what they need first (rootful podman, the Debian images, the collections) and keeps going past a
# failing scenario, exiting non-zero when any failed. Usage: scripts/molecule.sh [scenario ...]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.build/collections"
export ANSIBLE_ROLES_PATH="$root/roles"

scenarios=("$@")
if ((${#scenarios[@]} == 0)); then
    for file in extensions/molecule/*/molecule.yml; do
        [[ -f "$file" ]] && scenarios+=("$(basename "$(dirname "$file")")")
    done
fi
if ((${#scenarios[@]} == 0)); then
    echo "molecule: no scenario under extensions/molecule"
    exit 0
fi

scripts/podman-setup.sh
scripts/build-image.sh bookworm
# A scenario that asks for the Debian 13 image gets it built too.
if grep -qs 'tunnelops-debian13' extensions/molecule/config.yml extensions/molecule/*/molecule.yml; then
    scripts/build-image.sh trixie
fi
scripts/install-collections.sh

passed=()
failed=()
for scenario in "${scenarios[@]}"; do
    started=$SECONDS
    echo "molecule: scenario $scenario"
    if molecule test --scenario-name "$scenario"; then
        passed+=("$scenario")
    else
        failed+=("$scenario")
    fi
    echo "molecule: scenario $scenario took $((SECONDS - started)) s"
done
echo "molecule: ${#passed[@]} scenario(s) passed (${passed[*]:-none}), ${#failed[@]} failed (${failed[*]:-none})"
((${#failed[@]} == 0))
