#!/usr/bin/env bash
# Prepare rootful podman for the Molecule scenarios: install what is missing and write a containers.conf
# drop-in with the settings this kind of machine needs. Safe to run again: it only acts on what differs.
set -euo pipefail

if [[ "$(id -u)" != 0 ]]; then
    echo "podman-setup: must run as root (rootful podman)" >&2
    exit 1
fi

packages=(podman runc mmdebstrap)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done
if ((${#missing[@]})); then
    echo "podman-setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# crun refuses hybrid cgroup hosts, and root here lacks CAP_SYS_RESOURCE, so podman's default ulimits
# (which raise the limits) fail: pin the runtime and keep the ulimits within the current hard limits.
nofile="$(ulimit -Hn)"
nproc="$(ulimit -Hu)"
if [[ "$nproc" == unlimited ]] || ((nproc > 32768)); then
    nproc=32768
fi
dropin=/etc/containers/containers.conf.d/50-tunnelops.conf
wanted="$(cat <<CONF
# Written by tunnelops.cloudflare scripts/podman-setup.sh for the Molecule scenarios.
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
runtime = "runc"
CONF
)"
if [[ ! -f "$dropin" ]] || [[ "$(cat "$dropin")" != "$wanted" ]]; then
    mkdir -p "$(dirname "$dropin")"
    printf '%s\n' "$wanted" >"$dropin"
    echo "podman-setup: wrote $dropin"
fi

podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupsVersion}} {{.Store.GraphDriverName}}' |
    sed 's/^/podman-setup: podman ready (runtime, cgroups, storage): /'
