#!/bin/sh
# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Build the Debian package of the stand-in cloudflared (a TEST DOUBLE, see README.md) into OUTDIR.
# Usage: tests/standin/build-deb.sh OUTDIR   -> prints the path of the .deb it wrote.
set -eu

if [ "$#" -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=$(sed -n 's/^VERSION = "\(.*\)"$/\1/p' "$here/cloudflared")
mkdir -p "$1"
outdir=$(cd "$1" && pwd)
deb="$outdir/cloudflared_${version}_all.deb"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
umask 022
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/cloudflared-standin" "$root/usr/share/doc/cloudflared"

# Debian ships python3 but no "python": run the script with /usr/bin/python3 whatever its first line says.
{ echo '#!/usr/bin/python3'; tail -n +2 "$here/cloudflared"; } > "$root/usr/bin/cloudflared"
chmod 0755 "$root/usr/bin/cloudflared"
# The double enforces the collection's own ingress rules: ship the ingress model beside it.
install -m 0644 "$repo/plugins/module_utils/_ingress.py" "$root/usr/lib/cloudflared-standin/_ingress.py"
install -m 0644 "$here/README.md" "$root/usr/share/doc/cloudflared/README.standin.md"

cat > "$root/DEBIAN/control" <<CONTROL
Package: cloudflared
Version: $version
Architecture: all
Maintainer: tunnelops maintainers <maintainers@tunnelops.dev>
Depends: python3 (>= 3.9), python3-yaml
Section: net
Priority: optional
Description: TEST DOUBLE of cloudflared for the tunnelops.cloudflare tests
 Stand-in for Cloudflare's tunnel client, built by the tunnelops.cloudflare
 collection's tests. It validates configs and registers a connector with the
 collection's API emulator. It does not carry any traffic. Never install it
 on a real host.
CONTROL

# Like Cloudflare's package: a /usr/local/bin link and the marker that turns self-update off.
cat > "$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
    mkdir -p /usr/local/bin /usr/local/etc/cloudflared
    ln -sf /usr/bin/cloudflared /usr/local/bin/cloudflared
    touch /usr/local/etc/cloudflared/.installedFromPackageManager
fi
POSTINST
cat > "$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ "$1" = "remove" ] || [ "$1" = "purge" ]; then
    if [ -L /usr/local/bin/cloudflared ]; then
        rm -f /usr/local/bin/cloudflared
    fi
    rm -f /usr/local/etc/cloudflared/.installedFromPackageManager
fi
POSTRM
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/postrm"

dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "$deb"
