#!/usr/bin/env bash
# Writes the production env file at deploy time (default .env.production, readable by its
# owner only): the settings of ops/production.env and a fresh random value for every secret
# .env.example names (a name with PASSWORD or SECRET). No secret is ever committed: git
# ignores the file, and `harness audit-config --env-file .env.production` judges it.
#
#   ./scripts/production-env.sh [FILE]     # refuses to overwrite: secrets are made once
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-.env.production}
if [[ -e $out ]]; then
    echo "production-env: $out exists; remove it first to make new secrets" >&2
    exit 1
fi

# 32 random bytes as 64 hex characters: 256 bits, no character a shell or a URL would mangle
random_value() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

umask 077
{
    echo "# Written by scripts/production-env.sh at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    grep -v '^#' ops/production.env
    grep -oE '^[A-Z0-9_]*(PASSWORD|SECRET)[A-Z0-9_]*=' .env.example | tr -d = |
        while read -r name; do
            echo "$name=$(random_value)"
        done
} >"$out"
echo "production-env: wrote $out"
