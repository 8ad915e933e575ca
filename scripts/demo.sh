#!/usr/bin/env bash
# `make demo`: playbooks/migrate.yml on its embedded defaults. The Molecule scenario `migrate` makes four Debian 12
# containers (systemd as PID 1) into legacy tunnel hosts: legacy-plain runs two legacy tunnels, legacy-pool-1 and
# legacy-pool-2 are replicas that joined the load-balancer pool web-pool, and legacy-broken's named tunnel will
# not connect. The API emulator holds the account with the DNS records the legacy tunnels left. Then the real
# playbook shows its plan (--check --diff), migrates them in batches of two (first with no failure tolerated, which
# stops after the broken host's batch, then with failures tolerated), runs again without changing anything, and
# the report and every tunnel as cf_tunnel_info sees it are printed.
# Each step's full output goes to .build/demo/<step>.log; the reports are kept in .build/demo.
# DEMO_KEEP=1 leaves the containers and the emulator running afterwards.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.build/collections"
export ANSIBLE_ROLES_PATH="$root/roles"

demo="$root/.build/demo"
export MOLECULE_EPHEMERAL_DIRECTORY="$demo/molecule"
state="$MOLECULE_EPHEMERAL_DIRECTORY/cfemu"
mkdir -p "$demo"

scripts/podman-setup.sh
scripts/build-image.sh bookworm
scripts/install-collections.sh

finish() {
    if [[ "${DEMO_KEEP:-0}" != 1 ]]; then
        molecule cleanup --scenario-name migrate >"$demo/cleanup.log" 2>&1 || true
        molecule destroy --scenario-name migrate >"$demo/destroy.log" 2>&1 || true
    fi
}
trap finish EXIT

# Runs one Molecule step with its output in .build/demo/<step>.log; on failure shows the end of it and stops.
step() {
    local action=$1
    shift
    echo
    echo "demo: $*"
    if ! molecule "$action" --scenario-name migrate >"$demo/$action.log" 2>&1; then
        tail -n 60 "$demo/$action.log" >&2
        echo "demo: molecule $action failed; the whole output is in $demo/$action.log" >&2
        exit 1
    fi
}

molecule destroy --scenario-name migrate >"$demo/destroy.log" 2>&1 || true
step create "creating four Debian 12 containers with systemd"
step prepare "making them legacy tunnel hosts, starting the API emulator with the legacy DNS records"

step converge "running playbooks/migrate.yml: --check --diff, a rollout that stops at the broken host, then the rest"
echo
echo "demo: the plan from --check --diff (nothing was changed):"
grep -oE '"msg": "legacy-[^"]* result=planned"' "$state/migrate-check.log" | sed -e 's/^"msg": "/  /' -e 's/"$//'
echo
echo "demo: the rollout with no failure tolerated (legacy-broken fails, legacy-plain in its batch goes on, the rest waits):"
grep -oE '"msg": "legacy-[^"]* result=[a-z]+[^"]*"' "$state/migrate-stopped.log" | sed -e 's/^"msg": "/  /' -e 's/"$//'
cp "$state/reports/migration-report.md" "$demo/migration-report.md"
cp "$state/reports/migration-report.json" "$demo/migration-report.json"
echo
echo "demo: the report of the run that finished the rollout ($demo/migration-report.md):"
cat "$demo/migration-report.md"

step idempotence "running it again: nothing may change on the migrated hosts"
echo "demo: the second run changed nothing on the migrated hosts; legacy-broken still keeps its legacy tunnel"

step verify "checking Cloudflare's side, the hosts and the output (no secret at -vvvv)"
echo
echo "demo: the tunnels as cf_tunnel_info sees them:"
cat "$state/reports/tunnels.md"
echo
echo "demo: done. Outputs of every step are in $demo; DEMO_KEEP=1 make demo keeps the containers and the emulator."
