#!/bin/sh
# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Build a signed apt repository laid out like Cloudflare's (suite "any", component "main") that holds the stand-in
# cloudflared package (a TEST DOUBLE, see README.md), so that the role's package install can be tested without
# Cloudflare. The signing key is made for this repository and thrown away; its public part is OUTDIR/key.gpg.
# Needs dpkg-deb and gpg. Usage: tests/standin/build-apt-repo.sh OUTDIR   -> prints OUTDIR.
set -eu

if [ "$#" -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1/pool/main"
out=$(cd "$1" && pwd)
arch=$(dpkg --print-architecture)
deb=$(sh "$here/build-deb.sh" "$out/pool/main")
packages="$out/dists/any/main/binary-$arch"
mkdir -p "$packages"

# The Packages index: the package's control fields, then where it lies and its checksums.
{
    dpkg-deb --field "$deb"
    echo "Filename: pool/main/$(basename "$deb")"
    echo "Size: $(wc -c < "$deb" | tr -d ' ')"
    echo "SHA256: $(sha256sum "$deb" | cut -d' ' -f1)"
    echo
} > "$packages/Packages"
gzip -9 --keep --force "$packages/Packages"

cd "$out/dists/any"
{
    echo "Origin: tunnelops test double"
    echo "Label: cloudflared stand-in"
    echo "Suite: any"
    echo "Codename: any"
    echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
    echo "Architectures: $arch"
    echo "Components: main"
    echo "SHA256:"
    for index in "main/binary-$arch/Packages" "main/binary-$arch/Packages.gz"; do
        echo " $(sha256sum "$index" | cut -d' ' -f1) $(wc -c < "$index" | tr -d ' ') $index"
    done
} > Release

GNUPGHOME=$(mktemp -d)
export GNUPGHOME
trap 'rm -rf "$GNUPGHOME"' EXIT
gpg --batch --quiet --passphrase '' --quick-generate-key 'tunnelops test repository <test@tunnelops.invalid>' ed25519 sign never
gpg --batch --quiet --yes --clearsign --output InRelease Release
gpg --batch --quiet --yes --armor --detach-sign --output Release.gpg Release
gpg --batch --quiet --export > "$out/key.gpg"
echo "$out"
