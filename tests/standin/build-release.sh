#!/bin/sh
# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Build the stand-in cloudflared (a TEST DOUBLE, see README.md) as a single executable file, the way Cloudflare
# publishes a release file: a Python zip application holding the script and the ingress model it checks with.
# VERSION (default: the script's own) sets the version it reports, so that tests can publish an "upgrade".
# Usage: tests/standin/build-release.sh OUTFILE [VERSION]   -> prints OUTFILE.
set -eu

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
    echo "usage: $0 OUTFILE [VERSION]" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=${2:-$(sed -n 's/^VERSION = "\(.*\)+standin"$/\1/p' "$here/cloudflared")}

app=$(mktemp -d)
trap 'rm -rf "$app"' EXIT
sed "s/^VERSION = \".*\"$/VERSION = \"$version+standin\"/" "$here/cloudflared" > "$app/__main__.py"
cp "$repo/plugins/module_utils/_ingress.py" "$app/_ingress.py"
mkdir -p "$(dirname "$1")"
python3 -m zipapp "$app" --output "$1" --python /usr/bin/python3
chmod 0755 "$1"
echo "$1"
