"""Who was active lately: the ``active_users`` gauge.

A user is active for ``WINDOW_S`` after an authenticated request (a login, or a request with
a valid bearer token). The users live in a Redis sorted set scored by the time of their last
request, so every worker and replica counts the same users; without REDIS_URL the set is
this process's own (exact for one process only).
"""

from __future__ import annotations

import contextlib
import time

from starlette.applications import Starlette

from reference_app.core.cache import CacheUnavailable, RedisLink

WINDOW_S = 300
KEY = "active_users:v1"


class ActiveUsers:
    """Notes users' authenticated requests; counts the users of the last ``WINDOW_S``."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self.local: dict[str, float] = {}

    async def note(self, username: str) -> None:
        """Mark ``username`` active now; Redis down leaves the mark out (a gauge, not a log)."""
        now = time.time()
        if not self.link.configured:
            self.local[username] = now
            return
        with contextlib.suppress(CacheUnavailable):
            await self.link.call("ZADD", KEY, now, username)

    async def count(self) -> int | None:
        """Users active in the window; None when Redis does not answer."""
        since = time.time() - WINDOW_S
        if not self.link.configured:
            self.local = {user: at for user, at in self.local.items() if at >= since}
            return len(self.local)
        try:
            await self.link.call("ZREMRANGEBYSCORE", KEY, "-inf", f"({since}")
            return int(await self.link.call("ZCARD", KEY))
        except CacheUnavailable:
            return None


def active_users(app: Starlette) -> ActiveUsers:
    """The ActiveUsers create_app stored on ``app.state``."""
    tracker = getattr(app.state, "active_users", None)
    if not isinstance(tracker, ActiveUsers):
        raise RuntimeError("app.state.active_users is not set; build the app with create_app()")
    return tracker
