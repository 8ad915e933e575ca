#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection placed where ansible-test wants it:
# .build/sanity/ansible_collections/tunnelops/cloudflare. Only files git tracks or would track (untracked and
# not ignored) are copied, so virtualenvs and build output never reach the tests. ansible-test builds one
# virtualenv per test from PyPI (--venv); they live under tests/output in the copy and are kept between runs.
# Extra arguments go to ansible-test, e.g. scripts/sanity.sh --test pep8
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
copy="$root/.build/sanity/ansible_collections/tunnelops/cloudflare"
python_version="${SANITY_PYTHON:-3.11}"

# Tests that cannot run on this kind of machine; docs/development.md says why for each.
skipped=(
    pslint # needs PowerShell, which no registry we reach ships for Debian; we have no PowerShell files
)

# The shellcheck test skips itself (with only a warning) when shellcheck is missing: install it from Debian.
if ! command -v shellcheck >/dev/null && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "sanity: installing shellcheck"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
fi

mkdir -p "$copy"
find "$copy" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
if [[ -d "$copy/tests" ]]; then
    find "$copy/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
fi
(
    cd "$root"
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' path; do
            # Tracked files deleted in the working tree are listed by git but no longer exist.
            if [[ -e "$path" || -L "$path" ]]; then
                printf '%s\0' "$path"
            fi
        done |
        tar --create --null --no-recursion --files-from=- |
        tar --extract --directory="$copy"
)

# The checkout's own git repository would otherwise claim the copy (and ignore it, as it is under .build/):
# give the copy a repository of its own so ansible-test lists its files from there.
if [[ ! -d "$copy/.git" ]]; then
    git -C "$copy" init --quiet
fi

skip_args=()
for test in "${skipped[@]}"; do
    skip_args+=(--skip-test "$test")
done

# ansible-test caches under ~/.ansible/test: give it a home inside .cache so the stand-in for its pip bootstrap
# download (see scripts/ansible-test-get-pip.py) and the pip cache stay with this checkout.
export HOME="$root/.cache/ansible-test-home"
bootstrap="$HOME/.ansible/test/cache/get_pip_24_2.py"
mkdir -p "$(dirname "$bootstrap")"
cp "$root/scripts/ansible-test-get-pip.py" "$bootstrap"

cd "$copy"
exec "$root/.venv/bin/ansible-test" sanity --venv --python "$python_version" --color no "${skip_args[@]}" "$@"
