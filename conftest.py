"""Root conftest: the harness plugin comes from its pytest11 entry point (see pyproject.toml).

Nothing here may change behaviour for users: suites and tests get their fixtures from
``harness.plugin`` and ``tests/conftest.py``.
"""
