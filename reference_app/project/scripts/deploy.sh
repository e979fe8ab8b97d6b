#!/usr/bin/env bash
# Deploy the platform with Docker Compose v2. Steps: preflight, backup, build, migrate, start,
# health, cleanup; a log line per step. Any failure, SIGINT or SIGTERM after the backup rolls
# back: the previous images start again on the database restored from this run's backup.
#
#   ./scripts/deploy.sh                          # development, reads .env
#   ENVIRONMENT=production ./scripts/deploy.sh   # production, reads .env.production
#
# Settings (environment): VERSION (default: the git commit and a UTC time stamp), ENV_FILE,
# COMPOSE ("docker compose"), COMPOSE_FILE and COMPOSE_PROJECT_NAME (Compose's own),
# MIGRATE_COMMAND ("alembic upgrade head"), HEALTH_TIMEOUT (120 s), HEALTH_URL (as seen from
# inside the backend), BACKUP_DIR (backups), BACKUP_KEEP (7), IMAGE_KEEP (3), LOG_DIR (logs).
# Exit codes: 0 deployed; 1 failed and rolled back; 2 refused before any change; 3 the
# rollback failed too (the log names both steps); 4 deployed, but the image cleanup failed.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
SCRIPT_NAME=deploy
# shellcheck source-path=SCRIPTDIR/.. source=scripts/lib.sh
source scripts/lib.sh

MIGRATE_COMMAND=${MIGRATE_COMMAND:-alembic upgrade head}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-120}
HEALTH_URL=${HEALTH_URL:-http://127.0.0.1:8000/health}
BACKUP_KEEP=${BACKUP_KEEP:-7}
IMAGE_KEEP=${IMAGE_KEEP:-3}
STEPS=(preflight backup build migrate start health cleanup)
STEP=none
BACKUP_FILE=
PREVIOUS_VERSION=
APP_SERVICES=()

fail() {
    log "step $STEP failed: $*"
    return 1
}

step_preflight() {
    command -v docker >/dev/null || fail "docker is not installed"
    docker info >/dev/null 2>&1 || fail "the Docker engine does not answer"
    compose_is_v2 || fail "Docker Compose v2 is needed: set COMPOSE or install the compose plugin"
    [[ -f $ENV_FILE ]] || fail "$ENV_FILE is missing: cp .env.example $ENV_FILE and fill it in"
    compose config --quiet || fail "the Compose configuration does not validate"
    [[ $IMAGE_KEEP =~ ^[1-9][0-9]*$ && $BACKUP_KEEP =~ ^[1-9][0-9]*$ ]] ||
        fail "IMAGE_KEEP and BACKUP_KEEP must be positive integers"
    local service
    for service in backend frontend; do
        if compose config --services | grep -qx "$service"; then APP_SERVICES+=("$service"); fi
    done
    [[ ${APP_SERVICES[0]:-} == backend ]] || fail "the Compose file has no backend service"
    mkdir -p "$BACKUP_DIR" "$LOG_DIR"
    chmod 700 "$BACKUP_DIR"
    exec 9>"$BACKUP_DIR/.deploy.lock"
    flock -n 9 || fail "another deploy holds $BACKUP_DIR/.deploy.lock"
    local running
    running=$(compose ps -q backend)
    if [[ -n $running ]]; then
        local image
        image=$(docker inspect --format '{{.Config.Image}}' "$running")
        PREVIOUS_VERSION=${image##*:}
    fi
    if [[ -z ${VERSION:-} ]]; then
        VERSION="$(git rev-parse --short HEAD 2>/dev/null || echo local)-$STAMP"
    fi
    [[ $VERSION != "$PREVIOUS_VERSION" ]] ||
        fail "version $VERSION is already running; building it again would overwrite the rollback image"
    export VERSION
    log "deploying $VERSION over ${PREVIOUS_VERSION:-nothing}; services: ${APP_SERVICES[*]}"
}

step_backup() {
    compose up -d --wait db
    BACKUP_FILE="$BACKUP_DIR/db-$ENVIRONMENT-$STAMP-before-$VERSION.dump"
    dump_database "$BACKUP_FILE"
    # the configuration goes with each deployment (env files hold secrets: the dir is 0700)
    tar -czf "$BACKUP_DIR/config-$ENVIRONMENT-$STAMP.tar.gz" --ignore-failed-read \
        docker-compose*.yml "$ENV_FILE" monitoring 2>/dev/null
    log "backup $BACKUP_FILE ($(wc -c <"$BACKUP_FILE") bytes, sha256 $(cut -c1-12 "$BACKUP_FILE.sha256"))"
    prune_files "$BACKUP_DIR/db-$ENVIRONMENT-*.dump" "$BACKUP_KEEP"
    prune_files "$BACKUP_DIR/config-$ENVIRONMENT-*.tar.gz" "$BACKUP_KEEP"
}

step_build() {
    compose build "${APP_SERVICES[@]}"
}

step_migrate() {
    compose run --rm --no-deps -T backend sh -c "$MIGRATE_COMMAND"
}

step_start() {
    compose up -d --no-build "${APP_SERVICES[@]}"
}

# 200 and a JSON "status" of "healthy"; anything else (a 200 saying "unhealthy", a restart
# loop, a refused connection) keeps waiting until the deadline.
backend_healthy() {
    compose exec -T backend python -c '
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as answer:
    body = json.load(answer)
sys.exit(0 if answer.status == 200 and body.get("status") == "healthy" else 1)
' "$HEALTH_URL" >/dev/null 2>&1
}

wait_healthy() {
    local deadline=$((SECONDS + HEALTH_TIMEOUT))
    until backend_healthy; do
        if ((SECONDS >= deadline)); then
            fail "$HEALTH_URL not healthy within ${HEALTH_TIMEOUT}s"
            return 1 # reached in the rollback, which runs without the ERR trap
        fi
        sleep 2
    done
}

step_health() {
    wait_healthy
}

step_cleanup() {
    local service image project
    local -a images=() in_use=()
    project=$(compose config | sed -n 's/^name: //p')
    mapfile -t in_use < <(docker ps -a --format '{{.Image}}' | sort -u)
    for service in "${APP_SERVICES[@]}"; do
        # only images this project built for this service, newest tag first: the creation
        # time is no order (a build that only adds a label keeps its base's)
        mapfile -t images < <(docker image ls --format '{{.Repository}}:{{.Tag}}' \
            --filter "label=com.docker.compose.project=$project" \
            --filter "label=com.docker.compose.service=$service" | grep -v '<none>' |
            while read -r image; do
                printf '%s\t%s\n' "$(docker image inspect --format '{{.Metadata.LastTagTime}}' "$image")" "$image"
            done | sort -r | cut -f2)
        for image in "${images[@]:IMAGE_KEEP}"; do
            if printf '%s\n' "${in_use[@]}" | grep -qxF "$image" || [[ $image == *":$PREVIOUS_VERSION" ]]; then
                continue
            fi
            docker image rm "$image" >/dev/null
            log "removed old image $image (keeping $IMAGE_KEEP)"
        done
    done
}

rollback() {
    local failed=$1
    trap - ERR INT TERM
    set +e
    STEP=rollback
    log "rolling back after $failed to ${PREVIOUS_VERSION:-nothing}"
    compose stop "${APP_SERVICES[@]}"
    if [[ -n $BACKUP_FILE ]]; then
        restore_database "$BACKUP_FILE" || { log "rollback failed: the database restore"; exit 3; }
        log "database restored from $BACKUP_FILE"
    fi
    if [[ -n $PREVIOUS_VERSION ]]; then
        export VERSION=$PREVIOUS_VERSION
        if ! compose up -d --no-build "${APP_SERVICES[@]}" || ! wait_healthy; then
            log "rollback failed: $PREVIOUS_VERSION does not come back healthy"
            exit 3
        fi
    fi
    log "deploy failed at step $failed; rolled back to ${PREVIOUS_VERSION:-nothing}"
    exit 1
}

on_failure() {
    local failed=$STEP
    case $failed in
        preflight | none) log "deploy refused at step $failed; nothing changed"; exit 2 ;;
        # the new version is up and healthy: a leftover image is no reason to take it down
        cleanup) log "deployed $VERSION, but step cleanup failed"; exit 4 ;;
        *) rollback "$failed" ;;
    esac
}

trap on_failure ERR
trap 'log "interrupted during step $STEP"; on_failure' INT TERM

LOG_FILE="$LOG_DIR/deploy-$STAMP.log"
mkdir -p "$LOG_DIR"
for index in "${!STEPS[@]}"; do
    STEP=${STEPS[index]}
    started=$SECONDS
    log "step $((index + 1))/${#STEPS[@]} $STEP"
    "step_$STEP"
    log "step $STEP done in $((SECONDS - started))s"
done
log "deployed $VERSION"
