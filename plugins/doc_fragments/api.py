# Copyright (c) 2026 tunnelops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Keep in step with cloudflare_argument_spec() in plugins/module_utils/_api.py (a unit test compares them).
    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - Cloudflare API token, sent as a Bearer token.
      - Needs the permission groups each module names in its notes,
        for example C(Cloudflare Tunnel Write) on the account.
      - If not set, the environment variable E(CLOUDFLARE_API_TOKEN) is used.
      - Exactly one of O(api_token) or O(api_key) is required.
    type: str
    version_added: 0.1.0
  api_email:
    description:
      - E-mail address of the Cloudflare user whose global API key is O(api_key).
      - If not set, the environment variable E(CLOUDFLARE_EMAIL) is used.
      - Required together with O(api_key).
    type: str
    version_added: 0.1.0
  api_key:
    description:
      - Cloudflare global API key, the legacy alternative to O(api_token).
      - If not set, the environment variable E(CLOUDFLARE_API_KEY) is used.
    type: str
    version_added: 0.1.0
  account_id:
    description:
      - ID of the Cloudflare account that owns the tunnels (32 hexadecimal characters).
      - If not set, the environment variable E(CLOUDFLARE_ACCOUNT_ID) is used.
    type: str
    required: true
    version_added: 0.1.0
  base_url:
    description:
      - Base URL of the Cloudflare API v4.
      - If not set, the environment variable E(CLOUDFLARE_BASE_URL) is used, and then the default.
    type: str
    default: https://api.cloudflare.com/client/v4
    version_added: 0.1.0
  request_timeout:
    description:
      - Timeout in seconds for each HTTP request to the API.
      - Failed reads are retried (see the notes), so one task can take longer than this.
    type: float
    default: 30.0
    version_added: 0.1.0
requirements:
  - requests >= 2.25 on the host that runs the module (usually the controller, with C(delegate_to=localhost))
notes:
  - The module talks to the Cloudflare API over HTTPS;
    run it on the controller with C(delegate_to=localhost) or C(run_once=true).
  - Retries. A request answered with HTTP 429 is retried after C(Retry-After) (plus up to a second of jitter) for
    as long as 300 seconds of waiting in total, so that a fleet sharing the rate limit queues instead of failing.
    Server errors, timeouts and broken connections are retried for reads and for writes that are safe to repeat,
    at most 5 attempts per request and 120 seconds of waiting, with jittered exponential backoff.
  - When Cloudflare refuses a request with HTTP 403 and code 10000, the module asks C(/user/tokens/verify) once
    more, to say whether the API token itself is not accepted or lacks a permission.
"""
