#!/usr/bin/env bash
# Write the execution environment build context (ansible-builder create, offline: nothing is pulled or built)
# into .build/ee from tests/ee/execution-environment.yml, then check that it holds this version's artifact and
# that ansible-builder's own introspection finds the collection's Python requirements in that artifact.
# Builds the artifact first (scripts/build-collection.sh) when .build/dist does not hold it yet.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.venv/bin"
context="$root/.build/ee"
cd "$root"

version="$("$bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' galaxy.yml)"
artifact="tunnelops-cloudflare-$version.tar.gz"
if [[ ! -f ".build/dist/$artifact" ]]; then
    scripts/build-collection.sh
fi
if ! grep -q "$artifact" tests/ee/execution-environment.yml; then
    echo "ee: tests/ee/execution-environment.yml does not name $artifact (galaxy.yml version $version)" >&2
    exit 1
fi

rm -rf "$context"
"$bin/ansible-builder" create --file tests/ee/execution-environment.yml --context "$context" \
    --output-filename Containerfile >/dev/null
for file in Containerfile _build/requirements.yml "_build/collections/$artifact" _build/scripts/assemble; do
    if [[ ! -f "$context/$file" ]]; then
        echo "ee: the context lacks $file" >&2
        exit 1
    fi
done

# Run the introspection the image build would run, on the artifact installed into a temporary path.
install_dir="$(mktemp -d)"
trap 'rm -rf "$install_dir"' EXIT
ANSIBLE_COLLECTIONS_PATH="$install_dir" "$bin/ansible-galaxy" collection install --offline --no-deps --force \
    -p "$install_dir" "$context/_build/collections/$artifact" >/dev/null
"$bin/python" "$context/_build/scripts/introspect.py" introspect --write-pip "$install_dir/requirements.txt" \
    "$install_dir" >/dev/null
while read -r requirement; do
    [[ -z "$requirement" || "$requirement" == \#* ]] && continue
    if ! grep -qF "$requirement" "$install_dir/requirements.txt"; then
        echo "ee: introspection of the artifact misses the requirement '$requirement'" >&2
        cat "$install_dir/requirements.txt" >&2
        exit 1
    fi
done <requirements.txt
echo "ee: context in .build/ee ($(grep -c '^FROM' "$context/Containerfile") build stages) with $artifact;" \
    "introspection finds: $(grep -v '^#' "$install_dir/requirements.txt" | tr '\n' ' ')"
