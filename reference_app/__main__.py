"""Command line: `python -m reference_app serve|migrate|create-user|mutants|paths|...`."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from reference_app import describe
from reference_app.core.config import Settings, SettingsError, get_settings
from reference_app.core.probes import describe_failure, url_secrets

PROG = "reference_app"
_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class _CommandError(Exception):
    """Printed as one line; the exit code travels with it."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Reference app of the formulas API.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate the database, then serve HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default: 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    serve.add_argument("--no-migrate", action="store_true", help="skip `alembic upgrade head`")
    serve.add_argument(
        "--log-level", choices=_LOG_LEVELS, help="uvicorn log level (default: LOG_LEVEL)"
    )

    commands.add_parser("migrate", help="bring the database to the latest revision")
    # parsed by reference_app.create_admin; listed here for --help
    commands.add_parser(
        "create-user", help="create a plain user (--username U [--email E] --password-stdin)"
    )
    describe.add_commands(commands)
    return parser


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        raise _CommandError(str(exc), 2) from None


def _check_mutant() -> None:
    # Fail here with one line rather than with a traceback from every worker.
    from reference_app.mutants import MUTANT_ENV_VAR, UnknownMutantError, get_mutant

    name = os.environ.get(MUTANT_ENV_VAR, "").strip()
    if name:
        try:
            get_mutant(name)
        except UnknownMutantError as exc:
            raise _CommandError(str(exc), 2) from None


def _migrate(settings: Settings) -> None:
    from reference_app.core.migrate import upgrade_to_head

    try:
        upgrade_to_head(settings.database_url)
    except Exception as exc:
        reason = describe_failure(exc, url_secrets(settings.database_url))
        raise _CommandError(f"migration failed: {reason}", 1) from None


_PRIVATE_PREFIX = "reference-app-metrics-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process, or not a pid: not ours to judge
    return True


def _sweep_abandoned(directory: Path) -> None:
    """Remove private metrics directories of servers that were killed outright (SIGKILL
    leaves no time to clean up); their names carry the server's pid."""
    for stale in directory.glob(_PRIVATE_PREFIX + "*"):
        pid = stale.name.removeprefix(_PRIVATE_PREFIX).partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _metrics_directory() -> Path | None:
    """Make the workers share their metrics: PROMETHEUS_MULTIPROC_DIR emptied, or a private
    directory made (returned, to be removed at exit) when it is unset. Before anything imports
    prometheus_client, which reads the variable once."""
    # the name is repeated, not imported: reference_app.core.metrics imports prometheus_client
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not configured:
        _sweep_abandoned(Path(tempfile.gettempdir()))
        private = Path(tempfile.mkdtemp(prefix=f"{_PRIVATE_PREFIX}{os.getpid()}-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(private)
        return private
    directory = Path(configured)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # values of an earlier run would be added to this one's
        for stale in directory.glob("*.db"):
            stale.unlink()
    except OSError as exc:
        raise _CommandError(f"PROMETHEUS_MULTIPROC_DIR {configured}: {exc.strerror}", 2) from None
    return None


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    if args.workers < 1:
        raise _CommandError("--workers must be at least 1", 2)
    private = _metrics_directory()
    try:
        _run_server(args, settings)
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)


def _run_server(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    _check_mutant()
    if not args.no_migrate:
        _migrate(settings)
    uvicorn.run(
        "reference_app.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level or settings.log_level.lower(),
        # The server's name and version are of use only to an attacker.
        server_header=False,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1; the IP filter decides whom
        # to trust (SECURITY_TRUSTED_PROXIES), so the socket peer reaches it untouched
        proxy_headers=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["create-user"]:
        from reference_app.create_admin import main as create_account

        return create_account(argv[1:], admin=False)
    args = _parser().parse_args(argv)
    try:
        if args.command in describe.COMMANDS:
            # they describe the app; its settings (secrets, database) play no part
            describe.run(args)
            return 0
        settings = _settings()
        if args.command == "migrate":
            _migrate(settings)
        else:
            _serve(args, settings)
    except _CommandError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return exc.exit_code
    except describe.DescribeError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
