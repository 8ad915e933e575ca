#!/usr/bin/env bash
# Build the Debian image with systemd that the Molecule scenarios run, from Debian's own packages (no image
# registry is reachable). Usage: scripts/build-image.sh [bookworm|trixie]
# The image carries a label with a hash of its build inputs; when an image with the same hash exists, nothing
# is rebuilt. The Debian mirror comes from this machine's apt sources (or TUNNELOPS_DEBIAN_MIRROR).
set -euo pipefail

suite="${1:-bookworm}"
case "$suite" in
    bookworm) image=localhost/tunnelops-debian12:latest ;;
    trixie) image=localhost/tunnelops-debian13:latest ;;
    *)
        echo "build-image: unsupported suite '$suite' (bookworm or trixie)" >&2
        exit 2
        ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages=systemd,systemd-sysv,python3,python3-apt,sudo,ca-certificates,iproute2

mirror_from_apt_sources() {
    local file
    # deb822 sources first: the URIs of the stanza that serves the plain release suite (not -security).
    for file in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$file" ]] || continue
        awk '
            /^[[:space:]]*$/ { if (uris != "" && main) { print uris; exit } uris = ""; main = 0; next }
            /^URIs:/ { uris = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /-/) main = 1 }
            END { if (uris != "" && main) print uris }
        ' "$file" | head -n1
    done
    if [[ -f /etc/apt/sources.list ]]; then
        awk '$1 == "deb" && $3 !~ /-/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
            /etc/apt/sources.list
    fi
}

mirror="${TUNNELOPS_DEBIAN_MIRROR:-$(mirror_from_apt_sources | head -n1)}"
if [[ -z "$mirror" ]]; then
    echo "build-image: no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list" >&2
    exit 1
fi

# The mirror is deliberately not part of the hash: the same suite from another mirror is the same image.
inputs_hash="$(printf '%s\n%s\n' "$suite" "$packages" | cat - "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"
current="$(podman image inspect --format '{{ index .Labels "tunnelops.inputs" }}' "$image" 2>/dev/null || true)"
if [[ "$current" == "$inputs_hash" ]]; then
    echo "build-image: $image is up to date ($inputs_hash)"
    exit 0
fi

workdir="$root/.cache/images"
mkdir -p "$workdir"
tarball="$workdir/$suite-rootfs.tar"
trap 'rm -f "$tarball"' EXIT

echo "build-image: building $image from $suite at $mirror"
# Keep the apt lists (skip cleanup/apt/lists) so the apt module inside the container finds packages.
mmdebstrap --quiet --variant=minbase --skip=cleanup/apt/lists --include="$packages" \
    "$suite" "$tarball" "$mirror"
podman import --quiet \
    --change 'CMD ["/sbin/init"]' \
    --change "LABEL tunnelops.inputs=$inputs_hash" \
    --change "LABEL tunnelops.suite=$suite" \
    "$tarball" "$image" >/dev/null
echo "build-image: built $image ($inputs_hash)"
