#!/usr/bin/env bash
# Build the collection artifact, check that no development file got into it, install it into a temporary
# collections path and render the documentation of every module from that install.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.venv/bin"
dist="$root/.build/dist"
cd "$root"

rm -rf "$dist"
mkdir -p "$dist"
"$bin/ansible-galaxy" collection build --force --output-path "$dist" . >/dev/null
tarball="$(find "$dist" -maxdepth 1 -name 'tunnelops-cloudflare-*.tar.gz' -print -quit)"
echo "build: $(basename "$tarball") ($(tar -tzf "$tarball" | wc -l) entries, $(du -h "$tarball" | cut -f1))"

# Anything for development only (tests, virtualenvs, build output, benchmarks, caches, CI) must stay out.
forbidden='^(tests|bench|\.venv|\.build|\.cache|\.ci|\.git|extensions|molecule|scripts|context)(/|$)|(^|/)(__pycache__|\.pytest_cache)(/|$)|\.pyc$'
if tar -tzf "$tarball" | sed 's|^\./||' | grep -E "$forbidden"; then
    echo "build: the artifact holds the development files listed above" >&2
    exit 1
fi

install_dir="$(mktemp -d)"
trap 'rm -rf "$install_dir"' EXIT
# Only the temporary install may be visible: otherwise ansible-galaxy finds this checkout (linked under
# .build/collections) already installed, and ansible-doc would read the checkout instead of the artifact.
export ANSIBLE_COLLECTIONS_PATH="$install_dir"
"$bin/ansible-galaxy" collection install --offline --no-deps --force -p "$install_dir" "$tarball" >/dev/null
installed="$install_dir/ansible_collections/tunnelops/cloudflare"
if [[ ! -f "$installed/MANIFEST.json" ]]; then
    echo "build: the install into $install_dir did not produce $installed" >&2
    exit 1
fi

modules=()
for file in "$installed"/plugins/modules/*.py; do
    [[ -f "$file" ]] || continue
    name="$(basename "$file" .py)"
    [[ "$name" == __init__ ]] && continue
    modules+=("$name")
done
if ((${#modules[@]} == 0)); then
    echo "build: the artifact holds no module (nothing for ansible-doc)"
    exit 0
fi
# One ansible-doc call for all modules: each start costs seconds, and it fails as a whole on any broken doc.
names=("${modules[@]/#/tunnelops.cloudflare.}")
if ! output="$(cd "$install_dir" && ANSIBLE_NOCOLOR=1 "$bin/ansible-doc" -t module "${names[@]}" 2>&1)"; then
    echo "$output" >&2
    echo "build: ansible-doc failed on the installed artifact" >&2
    exit 1
fi
failed=0
for name in "${names[@]}"; do
    if ! grep -q "^> MODULE $name\b" <<<"$output"; then
        echo "build: ansible-doc printed no documentation for $name" >&2
        failed=1
    fi
done
echo "build: ansible-doc documents all ${#names[@]} module(s) of the installed artifact: ${modules[*]}"
exit "$failed"
