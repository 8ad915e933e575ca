#!/usr/bin/env bash
# Put the collections the tests need into .build/collections/ansible_collections without Galaxy: they come
# from PyPI's `ansible` wheel, which bundles them. The wheel is cached under .cache/wheels and only the
# needed folders are unpacked; a marker file makes a second run a no-op. Also links this checkout in as
# tunnelops.cloudflare so playbooks and tests use the working tree.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
bundle_version="${ANSIBLE_BUNDLE_VERSION:-12.3.0}"
wanted=(containers/podman ansible/posix community/general)
target="$root/.build/collections/ansible_collections"
marker="$target/.bundle-$bundle_version"
wheel_dir="$root/.cache/wheels"
wheel="$wheel_dir/ansible-$bundle_version-py3-none-any.whl"

mkdir -p "$target/tunnelops"
link="$target/tunnelops/cloudflare"
if [[ ! -e "$link" ]]; then
    ln -sfn ../../../.. "$link"
fi

if [[ -f "$marker" ]]; then
    exit 0
fi

if [[ ! -f "$wheel" ]]; then
    echo "install-collections: downloading ansible==$bundle_version from PyPI"
    "$python" -m pip download --quiet --no-deps --only-binary=:all: -d "$wheel_dir" "ansible==$bundle_version"
fi

echo "install-collections: unpacking ${wanted[*]}"
"$python" - "$wheel" "$target" "${wanted[@]}" <<'PY'
import shutil
import sys
import zipfile
from pathlib import Path

wheel, target, *wanted = sys.argv[1:]
target = Path(target)
prefixes = [f"ansible_collections/{name}/" for name in wanted]
for name in wanted:
    # A partial earlier unpack must not survive into this one.
    shutil.rmtree(target / name, ignore_errors=True)
with zipfile.ZipFile(wheel) as archive:
    members = [m for m in archive.namelist() if any(m.startswith(p) for p in prefixes)]
    missing = [p for p in prefixes if not any(m.startswith(p) for m in members)]
    if missing:
        sys.exit(f"install-collections: {wheel} does not contain {', '.join(missing)}")
    for member in members:
        archive.extract(member, target.parent)
PY
touch "$marker"
