"""The gate against three deployments nobody here wrote, timed: a Django project under
gunicorn, a Flask app with flask-talisman and Flask-Limiter ("100 per minute", the spec's
window), Debian's stock nginx. Performance suite left out. Prints per stack the wall time,
exit code, verdict counts and the console's line count.

    .venv/bin/python -m benchmarks.foreign_gates [--stack django|flask|nginx ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path

from tests.foreign import servers

# what a user of each stack passes after reading the discovery block
PARAMS = {
    "django": ["--param=api_probe_path=/api/items/", "--param=health_path=/health/"],
    "flask": ["--param=api_probe_path=/api/items", "--param=login_path=/api/login"],
    "nginx": [],
}


def _server(stack: str, workdir: Path) -> AbstractContextManager[str]:
    if stack == "django":
        return servers.django_site(workdir)
    if stack == "flask":
        return servers.flask_app(workdir)
    return servers.stock_nginx(workdir)


def measure(stack: str, workdir: Path, with_params: bool) -> str:
    args = PARAMS[stack] if with_params else []
    with _server(stack, workdir) as url:
        argv = [sys.executable, "-m", "harness.cli", "gate", "--target-url", url]
        argv += ["--report-dir", str(workdir / "reports"), "-k", "not test_performance", *args]
        start = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=workdir)
        wall = time.monotonic() - start
    output = done.stdout + done.stderr
    counts = next((line.strip() for line in output.splitlines() if " passed, " in line), "?")
    label = f"{stack} ({'with' if with_params else 'without'} path parameters)"
    return (
        f"{label:38} {wall:6.1f} s  exit {done.returncode}  "
        f"{len(output.splitlines()):3} console lines  {counts}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", action="append", choices=sorted(PARAMS), help="repeatable")
    args = parser.parse_args()
    if servers.nginx_binary() is None and "nginx" in (args.stack or PARAMS):
        parser.error("nginx is not installed: apt-get install nginx (or leave --stack nginx out)")
    for stack in args.stack or list(PARAMS):
        for with_params in (False, True) if PARAMS[stack] else (False,):
            with tempfile.TemporaryDirectory(prefix=f"foreign-{stack}-") as tmp:
                print(measure(stack, Path(tmp), with_params), flush=True)


if __name__ == "__main__":
    main()
