#!/usr/bin/env bash
# Full system backup: the database (pg_dump), the configuration and the named volumes of the
# Compose project, each with a sha256 in one manifest; then proves the database dump restores
# (into a scratch database: the tables and row counts the dump holds) and every archive reads back.
#
#   ./scripts/backup.sh                          # development, reads .env
#   ENVIRONMENT=production ./scripts/backup.sh   # production, reads .env.production
#
# Settings (environment): BACKUP_DIR (backups), BACKUP_KEEP (7 sets), ENV_FILE, COMPOSE,
# COMPOSE_FILE and COMPOSE_PROJECT_NAME. The database's own volume is not archived: a copy of
# live PostgreSQL files is not consistent, the dump is the database's backup.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
SCRIPT_NAME=backup
# shellcheck source-path=SCRIPTDIR/.. source=scripts/lib.sh
source scripts/lib.sh

BACKUP_KEEP=${BACKUP_KEEP:-7}
SET="$BACKUP_DIR/full-$ENVIRONMENT-$STAMP"
STEP=start
trap 'log "backup failed at step $STEP"; exit 1' ERR
trap 'log "backup interrupted at step $STEP"; exit 1' INT TERM

[[ -f $ENV_FILE ]] || { log "$ENV_FILE is missing: cp .env.example $ENV_FILE"; exit 2; }
compose_is_v2 || { log "Docker Compose v2 is needed: set COMPOSE or install the plugin"; exit 2; }
mkdir -p "$SET"
chmod 700 "$BACKUP_DIR" "$SET"

STEP=database
log "step database"
dump_database "$SET/database.dump"

STEP=configuration
log "step configuration"
tar -czf "$SET/configuration.tar.gz" --ignore-failed-read \
    docker-compose*.yml "$ENV_FILE" monitoring k8s 2>/dev/null

STEP=volumes
log "step volumes"
project=$(compose config | sed -n 's/^name: //p')
db_volume=$(docker inspect --format '{{range .Mounts}}{{if eq .Destination "/var/lib/postgresql/data"}}{{.Name}}{{end}}{{end}}' \
    "$(compose ps -q db)")
helper=$(docker inspect --format '{{.Config.Image}}' "$(compose ps -q db)")
for volume in $(docker volume ls -q --filter "label=com.docker.compose.project=$project"); do
    [[ $volume == "$db_volume" ]] && continue
    docker run --rm --network none -v "$volume:/volume:ro" --entrypoint tar "$helper" \
        -C /volume -czf - . >"$SET/volume-$volume.tar.gz"
    log "volume $volume archived"
done

STEP=checksums
(cd "$SET" && sha256sum -- *.dump *.tar.gz >SHA256SUMS)

STEP=verify
log "step verify"
(cd "$SET" && sha256sum --quiet -c SHA256SUMS)
for archive in "$SET"/*.tar.gz; do
    tar -tzf "$archive" >/dev/null
done
scratch="verify_$STAMP"
scratch=${scratch,,}
restore_database "$SET/database.dump" "$scratch"
expected=$(dump_counts "$SET/database.dump")
actual=$(table_counts "$scratch" | sort)
# shellcheck disable=SC2016  # expands in the db container
db_run 'dropdb -U "$POSTGRES_USER" --force "$1"' "$scratch"
if [[ $expected != "$actual" ]]; then
    log "the restored database differs: expected [$expected] got [$actual]"
    false
fi
log "restore verified: $(wc -l <<<"$expected") tables, same row counts"

STEP=prune
prune_files "$BACKUP_DIR/full-$ENVIRONMENT-*" "$BACKUP_KEEP"
log "backup $SET complete"
