"""The spec's ``docker-compose exec backend python -m app.create_admin``: the reference app's
command under the package name the spec uses (``--username``, ``--password-stdin``, or
``ADMIN_PASSWORD``; see ``python -m app.create_admin --help``)."""

from __future__ import annotations

from reference_app.create_admin import main

if __name__ == "__main__":
    raise SystemExit(main())
