"""The steps of the Compose runtime checks that disturb the running project, in the order the
suite runs them: Redis restarted, the database stopped under the troubleshooting one-liner,
``down`` and ``up`` again, a rebuild after a change, and a backend that cannot start. Each
returns what it saw; suites/test_compose_runtime.py judges it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.stacks.compose_runtime import UP_TIMEOUT_S, Command, ComposeRuntime, docker_out
from harness.stacks.project_stack import DrillError

BROKEN_FILE = "harness-start-error.yml"
STOPPED = ("Exited", "Restarting", "Dead")  # `docker ps -a` of a container that is not up
MOUNTED = '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}'
MARKER = "harness_compose_marker"  # a table and a Redis key that must outlive `down`


def redis_restart(rt: ComposeRuntime) -> dict[str, Any]:
    """A key written with redis-cli, Redis restarted, the key read back."""
    redis, key, token = rt.role("redis"), "harness:compose:restart", uuid.uuid4().hex
    wrote = rt.exec(redis, "redis-cli", "SET", key, token)
    restart = rt.run("restart", redis)
    ready = rt.run("up", "-d", "--wait", redis, timeout=UP_TIMEOUT_S)
    read = rt.exec(redis, "redis-cli", "GET", key)
    return {"written": wrote.out.strip(), "restart": restart.as_dict(),
            "ready": ready.as_dict(), "expected": token, "read": read.out.strip()}  # fmt: skip


def db_connect(rt: ComposeRuntime, one_liner: str) -> dict[str, Command]:
    """The troubleshooting one-liner with the database up, then with it stopped; the
    database is started again before this returns."""
    db, backend = rt.role("db"), rt.role("backend")
    out = {"db up": rt.exec(backend, "python", "-c", one_liner, timeout=120)}
    out["stop"] = rt.run("stop", db)
    out["ps db"] = rt.run("ps", "--all", db)
    out["db stopped"] = rt.exec(backend, "python", "-c", one_liner, timeout=120)
    out["start"] = rt.run("up", "-d", "--wait", db, timeout=UP_TIMEOUT_S)
    return out


def down_and_up(rt: ComposeRuntime) -> dict[str, Any]:
    """A token written to the database and to Redis, ``down``, what is left, ``up -d
    --wait``, the token read back from both."""
    redis, token = rt.role("redis"), uuid.uuid4().hex
    # a table name of the harness's own and a hex token: nothing from outside
    rt.project.sql(
        f"CREATE TABLE {MARKER} (token text); INSERT INTO {MARKER} VALUES ('{token}')"  # noqa: S608
    )
    rt.exec(redis, "redis-cli", "SET", MARKER, token)
    out: dict[str, Any] = {"expected": token, "volumes before": rt.volumes()}
    anonymous = _anonymous_volumes(rt)
    out["down"] = rt.run("down").as_dict()
    out["containers left"], out["volumes left"] = rt.containers(), rt.volumes()
    out["up"] = rt.run("up", "-d", "--wait", timeout=UP_TIMEOUT_S).as_dict()
    # anonymous volumes the new containers do not use any more: where data goes lost, and
    # nothing would remove them later (they carry no project label)
    out["anonymous volumes dropped"] = sorted(anonymous - _anonymous_volumes(rt))
    for volume in out["anonymous volumes dropped"]:
        docker_out("volume", "rm", volume)
    try:  # a database that lost its data has no such table: that is the finding
        out["database"] = rt.project.sql(f"SELECT token FROM {MARKER}")  # noqa: S608
    except DrillError as exc:
        out["database"] = f"unreadable: {exc}"
    out["redis"] = rt.exec(redis, "redis-cli", "GET", MARKER).out.strip()
    return out


def rebuild(rt: ComposeRuntime, relative: str) -> dict[str, Any]:
    """A comment line appended to ``relative`` (a file of a service's build context),
    then ``up -d --build --wait``: the service's container and image before and after."""
    path = (rt.project.root / relative).resolve()
    if not path.is_file():
        raise DrillError(f"{relative}: no such file to change in the repository")
    service = _building(rt, path)
    if service is None:  # nothing to rebuild: the finding, not a broken step
        return {"service": None}
    before = rt.container(service)
    with path.open("a") as sink:
        sink.write(f"\n# harness rebuild check {uuid.uuid4().hex}\n")
    up = rt.run("up", "-d", "--build", "--wait", timeout=600)
    return {"service": service, "up": up.as_dict(), "before": before,
            "after": rt.container(service)}  # fmt: skip


def _building(rt: ComposeRuntime, path: Path) -> str | None:
    for name, service in rt.project.config().get("services", {}).items():
        context = (service.get("build") or {}).get("context")
        if context and Path(context).resolve() in path.parents:
            return str(name)
    return None


def start_broken(
    rt: ComposeRuntime, settings: Mapping[str, str], wait_s: float = 60
) -> dict[str, Any]:
    """The backend started alone through a one-off override with ``settings`` in its
    environment; its container once it has stopped or restarted, and its logs."""
    backend = rt.role("backend")
    override = {"services": {backend: {"environment": dict(settings)}}}
    (rt.project.root / BROKEN_FILE).write_text(json.dumps(override))  # JSON is YAML
    files = {"COMPOSE_FILE": f"{rt.project.env['COMPOSE_FILE']}:{BROKEN_FILE}"}
    up = rt.run("up", "-d", "--no-deps", backend, extra_env=files, timeout=UP_TIMEOUT_S)
    # under a restart policy the container cycles: `docker ps -a` says Up in between
    service = f"label=com.docker.compose.service={backend}"
    argv = ("ps", "-a", "--filter", rt.label(), "--filter", service, "--format", "{{.Status}}")
    deadline, status = time.monotonic() + wait_s, docker_out(*argv).strip()
    while time.monotonic() < deadline and not status.startswith(STOPPED):
        time.sleep(0.5)
        status = docker_out(*argv).strip()
    return {"up": up, "container": rt.container(backend), "docker ps -a": status,
            "logs": rt.logs(backend, extra_env=files)}  # fmt: skip


def _anonymous_volumes(rt: ComposeRuntime) -> set[str]:
    named, out = set(rt.volumes()), set[str]()
    for container in rt.containers():
        mounts = docker_out("inspect", "--format", MOUNTED, container).split()
        out.update(volume for volume in mounts if volume not in named)
    return out
