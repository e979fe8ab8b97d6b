"""Mutants of the reference repository's deploy script: each breaks one promise of the
deploy drills (suites/test_deploy.py), so the drill that judges it must fail. They need the
containers stack to be judged (the drills run the script on Docker), so they are tested by
tests/stacks/test_deploy_drills.py rather than with the file mutants."""

from __future__ import annotations

from reference_app.project_mutants_ci import FileMutant

DEPLOY = "scripts/deploy.sh"


def _deploy(name: str, rid: str, description: str, *edits: str) -> FileMutant:
    pairs = tuple(zip(edits[::2], edits[1::2], strict=True))
    return FileMutant(name, (rid,), description, DEPLOY, pairs)


_MUTANTS: tuple[FileMutant, ...] = (
    _deploy(
        "deploy-without-backup",
        "DEP-DEPLOY-BACKUP",
        "the deploy writes no database backup before it replaces the containers",
        '    dump_database "$BACKUP_FILE"\n',
        "    BACKUP_FILE=\n",
        '    log "backup $BACKUP_FILE ($(wc -c <"$BACKUP_FILE") bytes',
        '    log "backup skipped ($(echo 0) bytes',
        'sha256 $(cut -c1-12 "$BACKUP_FILE.sha256"))',
        "sha256 none)",
    ),
    _deploy(
        "deploy-without-rollback",
        "DEP-DEPLOY-ROLLBACK",
        "a failed deploy exits non-zero and leaves the failed version running",
        '        *) rollback "$failed" ;;',
        '        *) log "deploy failed at step $failed"; exit 1 ;;',
    ),
    _deploy(
        "rollback-keeps-new-schema",
        "DEP-DEPLOY-ROLLBACK",
        "the rollback starts the previous images but leaves the new version's schema",
        "        start | health) downgrade_schema ;;\n",
        "        start | health) ;;\n",
    ),
    _deploy(
        "health-check-ignores-status",
        "DEP-DEPLOY-HEALTH",
        "the health step only asks whether the backend container runs, not what /health says",
        "backend_healthy() {\n",
        "backend_healthy() {\n    [[ -n $(compose ps -q --status running backend) ]] && return 0\n",
    ),
    _deploy(
        "cleanup-removes-running-image",
        "DEP-DEPLOY-CLEANUP",
        "the cleanup keeps the oldest images and force-removes the rest, the running one too",
        "            done | sort -r | cut -f2)",
        "            done | sort | cut -f2)",
        'if grep -qxF "$image" <<<"$in_use" || [[ $image == *":$PREVIOUS_VERSION" ]]; then',
        "if false; then",
        '            docker image rm "$image" >/dev/null',
        '            docker image rm -f "$image" >/dev/null',
    ),
)

_MUTANTS += (
    FileMutant(
        "deploy-ignores-environment-file",
        ("DEP-DEPLOY-ENVIRONMENT",),
        "ENVIRONMENT=production still deploys with .env, not .env.production",
        "scripts/lib.sh",
        (
            (
                "if [[ $ENVIRONMENT == development ]]; then ENV_FILE=.env; "
                "else ENV_FILE=.env.$ENVIRONMENT; fi",
                "ENV_FILE=.env",
            ),
        ),
    ),
)

# the Quick Start (suites/test_quickstart.py), judged on Docker like the drills
_MUTANTS += (
    FileMutant(
        "env-example-without-db-password",
        ("DEP-DEV-START",),
        ".env.example has no POSTGRES_PASSWORD: a copy of it cannot start the stack",
        ".env.example",
        (("POSTGRES_PASSWORD=change-me\n", ""),),
    ),
    FileMutant(
        "backend-image-without-create-admin",
        ("DEP-CREATE-ADMIN",),
        "the backend image the Compose file builds has no create_admin module",
        "docker-compose.local.yml",
        (
            (
                "        ENV ALEMBIC_CONFIG=",
                "        USER root\n"
                "        RUN rm /opt/venv/lib/python3.11/site-packages/"
                "reference_app/create_admin.py\n"
                "        USER 10001:10001\n"
                "        ENV ALEMBIC_CONFIG=",
            ),
        ),
    ),
)

DEPLOY_MUTANTS = {mutant.name: mutant for mutant in _MUTANTS}
