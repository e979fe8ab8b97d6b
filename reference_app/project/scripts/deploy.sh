#!/usr/bin/env bash
# Deploy the platform with Docker Compose v2. Steps: preflight, build, backup, migrate, start,
# health, cleanup; a log line per step. Any failure, SIGINT or SIGTERM after the build rolls
# back to the previous images, with the database as it was:
# - writes stop before the backup (the app services are stopped), so a restore of that backup
#   never loses a write the app acknowledged;
# - a failed migration restores the backup (the schema may be half-changed);
# - a new version that fails to start or to turn healthy may have taken writes: its schema is
#   downgraded to the previous revision by its own migrations, which keeps those rows; only
#   when the downgrade fails is the backup restored, and the log says writes since it are lost.
#
#   ./scripts/deploy.sh                          # development, reads .env
#   ENVIRONMENT=production ./scripts/deploy.sh   # production, reads .env.production
#
# Settings (environment): VERSION (default: the git commit and a UTC time stamp), ENV_FILE,
# COMPOSE ("docker compose"), COMPOSE_FILE and COMPOSE_PROJECT_NAME (Compose's own),
# MIGRATE_COMMAND ("alembic upgrade head"), DOWNGRADE_COMMAND ("alembic downgrade", given the
# revision), HEALTH_TIMEOUT (120 s), HEALTH_URL (as seen from inside the backend), BACKUP_DIR
# (backups), BACKUP_KEEP (7), IMAGE_KEEP (2: the running images and the rollback ones), LOG_DIR.
# Exit codes: 0 deployed; 1 failed and rolled back; 2 refused before any change; 3 the
# rollback failed too (the log names both steps); 4 deployed, but the image cleanup failed.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
SCRIPT_NAME=deploy
# shellcheck source-path=SCRIPTDIR/.. source=scripts/lib.sh
source scripts/lib.sh

MIGRATE_COMMAND=${MIGRATE_COMMAND:-alembic upgrade head}
DOWNGRADE_COMMAND=${DOWNGRADE_COMMAND:-alembic downgrade}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-120}
HEALTH_URL=${HEALTH_URL:-http://127.0.0.1:8000/health}
BACKUP_KEEP=${BACKUP_KEEP:-7}
IMAGE_KEEP=${IMAGE_KEEP:-2}
STEPS=(preflight build backup migrate start health cleanup)
STEP=none
BACKUP_FILE=
PREVIOUS_VERSION=
PREVIOUS_REVISION=
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
    local service services
    # read whole first: grep -q leaving early would fail the pipe (pipefail)
    services=$(compose config --services)
    for service in backend frontend; do
        if grep -qx "$service" <<<"$services"; then APP_SERVICES+=("$service"); fi
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

# the Alembic revision of the database, empty before the first migration
current_revision() {
    if [[ $(db_sql "SELECT to_regclass('public.alembic_version') IS NOT NULL") == t ]]; then
        db_sql "SELECT version_num FROM alembic_version"
    fi
}

step_backup() {
    # no write reaches the database from here on until the new version is up
    compose stop "${APP_SERVICES[@]}"
    compose up -d --wait db
    PREVIOUS_REVISION=$(current_revision)
    BACKUP_FILE="$BACKUP_DIR/db-$ENVIRONMENT-$STAMP-before-$VERSION.dump"
    dump_database "$BACKUP_FILE"
    # the configuration goes with each deployment (env files hold secrets: the dir is 0700)
    tar -czf "$BACKUP_DIR/config-$ENVIRONMENT-$STAMP.tar.gz" --ignore-failed-read \
        docker-compose*.yml "$ENV_FILE" monitoring 2>/dev/null
    log "backup $BACKUP_FILE ($(wc -c <"$BACKUP_FILE") bytes, sha256 $(cut -c1-12 "$BACKUP_FILE.sha256")), revision ${PREVIOUS_REVISION:-none}"
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

# "repository:tag" of the images Compose built for this project's services $2... (only those:
# a base image such as the database's is never ours to remove), of any tag or only of tag $1
built_images() {
    local tag=$1 service project
    shift
    project=$(compose config | sed -n 's/^name: //p')
    for service in "$@"; do
        docker image ls --format '{{.Repository}}:{{.Tag}}' \
            --filter "label=com.docker.compose.project=$project" \
            --filter "label=com.docker.compose.service=$service"
    done | grep -v '<none>' | grep "${tag:+:$tag\$}" || true
}

step_cleanup() {
    local service image
    local in_use
    local -a images=()
    in_use=$(docker ps -a --format '{{.Image}}')
    for service in "${APP_SERVICES[@]}"; do
        # only images this project built for this service, newest tag first: the creation
        # time is no order (a build that only adds a label keeps its base's)
        mapfile -t images < <(built_images "" "$service" |
            while read -r image; do
                printf '%s\t%s\n' "$(docker image inspect --format '{{.Metadata.LastTagTime}}' "$image")" "$image"
            done | sort -r | cut -f2)
        for image in "${images[@]:IMAGE_KEEP}"; do
            if grep -qxF "$image" <<<"$in_use" || [[ $image == *":$PREVIOUS_VERSION" ]]; then
                continue
            fi
            docker image rm "$image" >/dev/null
            log "removed old image $image (keeping $IMAGE_KEEP)"
        done
    done
}

restore_backup() {
    [[ -n $BACKUP_FILE ]] || return 0
    restore_database "$BACKUP_FILE" || { log "rollback failed: the database restore"; exit 3; }
    log "database restored from $BACKUP_FILE"
}

# Back to the previous revision with the new version's own migrations (they know the way
# down); the rows written meanwhile stay.
downgrade_schema() {
    [[ -n $BACKUP_FILE && $(current_revision) != "$PREVIOUS_REVISION" ]] || return 0
    if compose run --rm --no-deps -T backend sh -c "$DOWNGRADE_COMMAND ${PREVIOUS_REVISION:-base}"; then
        log "schema downgraded to ${PREVIOUS_REVISION:-base}"
    else
        log "the downgrade to ${PREVIOUS_REVISION:-base} failed; restoring the backup: writes since it are lost"
        restore_backup
    fi
}

rollback() {
    local failed=$1
    trap - ERR INT TERM
    set +e
    STEP=rollback
    log "rolling back after $failed to ${PREVIOUS_VERSION:-nothing}"
    compose stop "${APP_SERVICES[@]}"
    case $failed in
        migrate) restore_backup ;; # nothing was written since the backup: the app was stopped
        start | health) downgrade_schema ;;
    esac
    local image failed_images
    failed_images=$(built_images "$VERSION" "${APP_SERVICES[@]}")
    if [[ -n $PREVIOUS_VERSION ]]; then
        export VERSION=$PREVIOUS_VERSION
        if ! compose up -d --no-build "${APP_SERVICES[@]}" || ! wait_healthy; then
            log "rollback failed: $PREVIOUS_VERSION does not come back healthy"
            exit 3
        fi
    fi
    # once no container uses them: the failed version's images are not kept as rollback targets
    for image in $failed_images; do
        if [[ $image != *":$PREVIOUS_VERSION" ]] && docker image rm "$image" >/dev/null 2>&1; then
            log "removed the failed image $image"
        fi
    done
    log "deploy failed at step $failed; rolled back to ${PREVIOUS_VERSION:-nothing}"
    exit 1
}

on_failure() {
    # a failure inside $(...) or <(...) runs this trap in that subshell (set -E): a rollback
    # from there would run beside the script, which goes on; the main shell sees the failed
    # substitution and rolls back itself
    ((BASH_SUBSHELL == 0)) || exit 1
    local failed=$STEP
    case $failed in
        preflight | none) log "deploy refused at step $failed; nothing changed"; exit 2 ;;
        build) log "deploy failed at step build; nothing changed"; exit 1 ;;
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
