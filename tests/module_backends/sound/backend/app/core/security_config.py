"""Settings per ENVIRONMENT, as a plain object."""

from __future__ import annotations

import os
from types import SimpleNamespace

_production = os.environ.get("ENVIRONMENT") == "production"
security_settings = SimpleNamespace(
    allowed_hosts=["app.example.org"] if _production else ["localhost", "127.0.0.1"],
    rate_limit_calls=100 if _production else 1000,
    rate_limit_period=60,
    ip_whitelist=[],
    ip_blacklist=["192.0.2.0/24"],
)
