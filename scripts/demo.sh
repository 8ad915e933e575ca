#!/usr/bin/env bash
# `make demo`: the end-to-end run of this checkout. Until the migration playbook has its own demo, this runs the
# placeholder Molecule scenario: a Debian 12 container with systemd as PID 1 is created, converged, checked for
# idempotence, verified and destroyed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
echo "demo: placeholder demo - runs the Molecule scenario 'default' (no migration demo exists yet)"
exec "$root/scripts/molecule.sh" default
