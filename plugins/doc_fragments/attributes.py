# Copyright (c) 2026 tunnelops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Descriptions of the attributes; every module states its own support level under attributes:.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the predicted result without changing anything.
  diff_mode:
    description: Returns details on what has changed, or would change in check mode, with secrets masked.
  idempotent:
    description:
      - When run twice in a row with the same arguments, the second run reports no change and sends no write request.
"""

    # Membership of the action group, so that module_defaults can set credentials once for all API modules.
    ACTIONGROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/tunnelops.cloudflare.cloudflare) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - tunnelops.cloudflare.cloudflare
"""

    # Read-only modules: they change nothing, so check mode runs them unchanged.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This module never changes anything, so it runs normally in check mode.
  diff_mode:
    support: N/A
    details:
      - This module never changes anything.
  idempotent:
    support: full
"""
