"""``setup_security_middleware(app, config)`` observed on a bare app, in a child process.

The child builds a one-route app (FastAPI where the backend has it, else Starlette), applies
the deployment's ``setup_security_middleware`` with a test config and drives it with
Starlette's ``TestClient``: what each layer did comes back as one JSON object. The harness
only judges that object (:func:`middleware_gaps`).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.probes.modulecall import ModuleError, last_words

DENIED_IP = "203.0.113.7"
LIMITED_IP = "198.51.100.20"
ALLOWED_HOST = "allowed.example"
RATE_LIMIT_CALLS = 5
TEST_CONFIG: dict[str, Any] = {
    "allowed_hosts": [ALLOWED_HOST, "testserver"],
    "rate_limit_calls": RATE_LIMIT_CALLS,
    "rate_limit_period": 60,
    "ip_whitelist": [],
    "ip_blacklist": [DENIED_IP],
}
INJECTION = "/probe?q=1%27%20UNION%20SELECT%20password%20FROM%20users--"

# the child's program, run as ``python -c`` (the backend directory first on sys.path)
OBSERVE = (Path(__file__).parent / "middleware_runner.py").read_text(encoding="utf-8")


def observe_middleware(
    backend: Path, module: str, python: str, env: Mapping[str, str], timeout_s: float = 60.0
) -> dict[str, Any]:
    """Apply ``module.setup_security_middleware`` to a bare app in a child and return what
    each layer did; :class:`ModuleError` with the child's last words when it cannot."""
    argv = [python, "-c", OBSERVE, module, json.dumps(TEST_CONFIG), DENIED_IP, LIMITED_IP]
    argv += [ALLOWED_HOST, str(RATE_LIMIT_CALLS), INJECTION]
    path = os.pathsep.join(filter(None, (str(backend), os.environ.get("PYTHONPATH"))))
    full_env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": path} | dict(env)
    try:
        done = subprocess.run(
            argv, cwd=backend, env=full_env, capture_output=True, text=True,
            timeout=timeout_s, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        why = f"{module}: the middleware did not answer within {timeout_s:g} s"
        raise ModuleError(why) from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        words = last_words(done.stderr)
        raise ModuleError(f"applying {module}.setup_security_middleware failed: {words}")
    observed: dict[str, Any] = json.loads(lines[-1])
    return observed


SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "content-security-policy")


def middleware_gaps(seen: Mapping[str, Any]) -> list[str]:
    """What the observed app lacks of the spec's middleware, in words; empty when complete."""
    gaps: list[str] = []
    plain = seen.get("plain", {})
    if plain.get("status") != 200:
        gaps.append(f"an ordinary request answered {plain.get('status')}, not 200")
    missing = [h for h in SECURITY_HEADERS if h not in plain.get("headers", {})]
    if missing:
        gaps.append(f"no security headers {', '.join(missing)}")
    if seen.get("foreign_host") != 400:
        gaps.append(f"a Host outside allowed_hosts answered {seen.get('foreign_host')}, not 400")
    if seen.get("injection") not in (400, 403):
        gaps.append(f"an SQL injection in the query answered {seen.get('injection')}")
    if seen.get("denied_ip") != 403:
        gaps.append(f"a client in ip_blacklist answered {seen.get('denied_ip')}, not 403")
    limited = list(seen.get("limited", []))
    if limited[:RATE_LIMIT_CALLS] != [200] * RATE_LIMIT_CALLS or 429 not in limited:
        gaps.append(f"rate_limit_calls={RATE_LIMIT_CALLS}: statuses were {limited}")
    if not seen.get("audit"):
        gaps.append("no log record names the request (its path and X-Request-ID)")
    return gaps
