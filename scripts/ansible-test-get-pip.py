"""Stand-in for the pip bootstrap script that ansible-test downloads before it fills a new virtualenv.

ansible-test fetches that script from a host outside the package registries, which this kind of machine cannot
reach. scripts/sanity.sh places this file where ansible-test caches the download instead. It does the same job
with what Python and PyPI provide: it runs the pip wheel that Python bundles for ensurepip straight from the
wheel file (as the original script runs its embedded pip) to install what ansible-test asked for (a pinned pip)
from PyPI.
"""

from __future__ import annotations

import ensurepip
import subprocess
import sys
from pathlib import Path

WHEEL_FOLDERS = (
    Path(ensurepip.__file__).parent / "_bundled",
    # Debian's python3-venv keeps the wheels here instead.
    Path("/usr/share/python-wheels"),
)


def bundled_pip_wheel() -> Path:
    for folder in WHEEL_FOLDERS:
        wheels = sorted(folder.glob("pip-*.whl"))
        if wheels:
            return wheels[-1]
    sys.exit(f"no bundled pip wheel in {', '.join(str(folder) for folder in WHEEL_FOLDERS)}")


def main() -> int:
    # Running pip from its wheel installs the requested pip without pip replacing itself mid-run.
    # get-pip understands --no-setuptools and --no-wheel itself; plain pip does not, and needs neither.
    arguments = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    return subprocess.call([sys.executable, f"{bundled_pip_wheel()}/pip", "install", *arguments])


if __name__ == "__main__":
    sys.exit(main())
