"""The same values whatever ENVIRONMENT says, and a wildcard host."""

from __future__ import annotations

security_settings = {"allowed_hosts": ["*"], "rate_limit_calls": 100}
