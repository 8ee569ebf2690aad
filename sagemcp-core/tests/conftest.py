"""Core's tests talk to fake upstreams on 127.0.0.1, which the upstream client's address check allows only
when the operator's loopback switch is on; tests of the production rules turn it off themselves."""

from __future__ import annotations

import os

os.environ.setdefault("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")
