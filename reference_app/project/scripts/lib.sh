# Shared by deploy.sh and backup.sh (sourced, not run): settings, logging, Compose, the database.
# shellcheck shell=bash
# The single-quoted scripts below expand inside the db container, on purpose:
# shellcheck disable=SC2016

ENVIRONMENT=${ENVIRONMENT:-development}
BACKUP_DIR=${BACKUP_DIR:-backups}
LOG_DIR=${LOG_DIR:-logs}
# shellcheck disable=SC2034  # used by the scripts that source this file
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
# Compose v2 only: "docker compose", or a path to the standalone v2 binary
read -r -a COMPOSE_ARGV <<<"${COMPOSE:-docker compose}"

if [[ -z ${ENV_FILE:-} ]]; then
    if [[ $ENVIRONMENT == development ]]; then ENV_FILE=.env; else ENV_FILE=.env.$ENVIRONMENT; fi
fi

# The log goes to the stderr the script was started with, kept as fd 8: a trap can fire while a
# function runs with its stderr sent to /dev/null (a signal during a quiet health probe), and
# its lines must still reach the user.
exec 8>&2
log() {
    local line
    line="$(date -u +%Y-%m-%dT%H:%M:%SZ) ${SCRIPT_NAME:-script} [$ENVIRONMENT] $*"
    printf '%s\n' "$line" >&8
    if [[ -n ${LOG_FILE:-} ]]; then printf '%s\n' "$line" >>"$LOG_FILE"; fi
}

compose() {
    "${COMPOSE_ARGV[@]}" --env-file "$ENV_FILE" "$@"
}

compose_is_v2() {
    local version
    version=$("${COMPOSE_ARGV[@]}" version --short 2>/dev/null) || return 1
    version=${version#v}
    [[ ${version%%.*} =~ ^[0-9]+$ ]] && ((${version%%.*} >= 2))
}

# Runs a shell script inside the db container, with its own POSTGRES_USER and POSTGRES_DB, so
# this script never handles the credentials; further arguments are the script's $1, $2 ...
db_run() {
    local script=$1
    shift
    compose exec -T db sh -c "$script" sh "$@"
}

# The SQL of $1 (on stdin, so no quoting layers) against database $2 (default: the app's)
db_sql() {
    printf '%s\n' "$1" | db_run 'psql -v ON_ERROR_STOP=1 -qAt -U "$POSTGRES_USER" -d "${1:-$POSTGRES_DB}"' "${2:-}"
}

# pg_dump in the custom format into $1, its sha256 beside it as $1.sha256
dump_database() {
    local target=$1
    db_run 'pg_dump -U "$POSTGRES_USER" -Fc "$POSTGRES_DB"' >"$target.partial"
    mv "$target.partial" "$target"
    (cd "$(dirname "$target")" && sha256sum "$(basename "$target")" >"$(basename "$target").sha256")
}

# Replace the database $2 (default: the app's) with the dump $1 once its checksum matches.
restore_database() {
    local dump=$1 database=${2:-}
    (cd "$(dirname "$dump")" && sha256sum --quiet -c "$(basename "$dump").sha256")
    # dropping the whole database also drops what a failed migration created, which a
    # pg_restore --clean would keep (it only drops the objects the dump knows)
    db_run 'db=${1:-$POSTGRES_DB}
        dropdb -U "$POSTGRES_USER" --if-exists --force "$db" &&
        createdb -U "$POSTGRES_USER" "$db"' "$database"
    db_run 'pg_restore -U "$POSTGRES_USER" -d "${1:-$POSTGRES_DB}" --exit-on-error --no-owner' \
        "$database" <"$dump"
}

# "table count" per table of the public schema, sorted: two databases hold the same rows
# when these lines are equal.
table_counts() {
    local database=${1:-} table
    for table in $(db_sql "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1" "$database"); do
        printf '%s %s\n' "$table" "$(db_sql "SELECT count(*) FROM \"$table\"" "$database")"
    done
}

# The same lines as table_counts, read from the dump $1 itself (a COPY block per table, one line
# per row), so a restore is compared with what was dumped rather than with a database that
# kept taking writes since.
dump_counts() {
    db_run 'pg_restore --data-only -f -' <"$1" | awk '
        /^COPY / { table = $2; sub(/^public\./, "", table); gsub(/"/, "", table); rows = 0; next }
        /^\\\.$/ && table != "" { print table, rows; table = ""; next }
        table != "" { rows++ }' | sort
}

# Keep the newest $2 entries (files or backup sets) matching the glob $1, and their .sha256.
prune_files() {
    local pattern=$1 keep=$2 file
    local -a files=()
    mapfile -t files < <({ compgen -G "$pattern" || true; } | sort -r)
    for file in "${files[@]:keep}"; do
        rm -rf -- "$file" "$file.sha256"
        log "pruned $file (keeping $keep)"
    done
}
