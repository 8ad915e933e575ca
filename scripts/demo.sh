#!/usr/bin/env bash
# `make demo`: playbooks/migrate.yml on its embedded defaults. The Molecule scenario `migrate` makes four Debian 12
# containers (systemd as PID 1) into legacy tunnel hosts: legacy-plain runs two legacy tunnels, legacy-pool-1 and
# legacy-pool-2 are replicas that joined the load-balancer pool web-pool, and legacy-broken's named tunnel will
# not connect. The API emulator holds the account with the DNS records the legacy tunnels left. Then the real
# playbook migrates them all at once, a second run changes nothing, and verify prints the migration report and
# every tunnel as cf_tunnel_info sees it. DEMO_KEEP=1 leaves the containers and the emulator running afterwards.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.build/collections"
export ANSIBLE_ROLES_PATH="$root/roles"

scripts/podman-setup.sh
scripts/build-image.sh bookworm
scripts/install-collections.sh

finish() {
    if [[ "${DEMO_KEEP:-0}" != 1 ]]; then
        molecule cleanup --scenario-name migrate >/dev/null 2>&1 || true
        molecule destroy --scenario-name migrate >/dev/null 2>&1 || true
    fi
}
trap finish EXIT

echo "demo: preparing four legacy hosts and the API emulator"
molecule destroy --scenario-name migrate >/dev/null 2>&1 || true
molecule create --scenario-name migrate
molecule prepare --scenario-name migrate
echo "demo: running playbooks/migrate.yml (the host legacy-broken is expected to fail and keep its legacy tunnel)"
molecule converge --scenario-name migrate
echo "demo: running it again: nothing changes"
molecule idempotence --scenario-name migrate
echo "demo: the report and the tunnels"
molecule verify --scenario-name migrate
