"""Shared pytest set-up: make this checkout importable as ansible_collections.tunnelops.cloudflare."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS_PATH = REPO_ROOT / ".build" / "collections"


def _link_collection() -> None:
    # Tests import the collection the way Ansible does, through an ansible_collections tree. The tree holds a
    # symlink back to this checkout so edits are picked up without a build.
    namespace_dir = COLLECTIONS_PATH / "ansible_collections" / "tunnelops"
    namespace_dir.mkdir(parents=True, exist_ok=True)
    link = namespace_dir / "cloudflare"
    if not link.exists():
        link.symlink_to(os.path.relpath(REPO_ROOT, namespace_dir))
    if str(COLLECTIONS_PATH) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS_PATH))


_link_collection()


# The Cloudflare API emulator's fixtures (cfemu, cfemu_factory) for every test; see tests/emulator/README.md.
sys.path.insert(0, str(REPO_ROOT / "tests" / "emulator"))
import harness

_cfemu_shared = harness._cfemu_shared
cfemu = harness.cfemu
cfemu_factory = harness.cfemu_factory
