"""Configuration, database access, migrations, security helpers and health probes."""
