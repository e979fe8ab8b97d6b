"""PostgreSQL of a container stack serving TLS only: a throwaway certificate, ``ssl=on`` and a
pg_hba.conf that lets network clients in over TLS alone (``hostssl``); the Unix socket, which
never leaves the container, keeps the image's ``trust`` for its own tools.

The official image and the harness's Debian one both run their entrypoint as root and exec a
command that is not ``postgres``: the wrapper below runs first, gives the key to the postgres
user with the mode the server demands (a bind mount keeps the host's owner), then hands the
server's arguments back to the image's own entrypoint.
"""

from __future__ import annotations

from pathlib import Path

from harness.stacks.services import Mount

MOUNT_DIR = "/etc/harness-db-tls"  # the certificate as the harness wrote it, read-only
_SERVER_DIR = "/var/lib/postgresql/tls"  # the server's copy, owned by postgres
# every network connection must be encrypted; the socket serves psql inside the container
PG_HBA = ("local all all trust", "hostssl all all all scram-sha-256")
_WRAPPER = f"""set -eu
dir={_SERVER_DIR}
mkdir -p "$dir"
cp {MOUNT_DIR}/tls.crt "$dir/server.crt"
cp {MOUNT_DIR}/tls.key "$dir/server.key"
printf '%s\\n' {" ".join(repr(line) for line in PG_HBA)} > "$dir/pg_hba.conf"
chown -R postgres:postgres "$dir"
chmod 0600 "$dir/server.key"
exec docker-entrypoint.sh "$@"
"""
SERVER_OPTIONS = (
    "-c", "ssl=on",
    "-c", f"ssl_cert_file={_SERVER_DIR}/server.crt",
    "-c", f"ssl_key_file={_SERVER_DIR}/server.key",
    "-c", f"hba_file={_SERVER_DIR}/pg_hba.conf",
)  # fmt: skip


def database_tls_mount(workdir: Path) -> Mount:
    """A throwaway certificate for the database service (``db``), mounted read-only."""
    import trustme

    cert = trustme.CA().issue_cert("db", "localhost")
    directory = workdir / "db-tls"
    directory.mkdir(mode=0o755, exist_ok=True)
    (directory / "tls.crt").write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(directory / "tls.key"))
    # the container's root copies them: readable by the owner is enough
    for path in directory.iterdir():
        path.chmod(0o600)
    return (str(directory), MOUNT_DIR, "ro")


def database_command() -> list[str]:
    """The database container's command: the wrapper, then ``postgres`` with TLS on."""
    return ["sh", "-c", _WRAPPER, "db-tls", "postgres", *SERVER_OPTIONS]


def with_ssl_required(url: str) -> str:
    """``url`` with asyncpg's ``ssl=require``: the connection is encrypted or refused."""
    return f"{url}{'&' if '?' in url else '?'}ssl=require"
