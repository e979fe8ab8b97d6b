# The reference backend. Multi-stage: the builder installs the app and its dependencies into a
# virtualenv from a wheelhouse; the final stage holds that virtualenv and the interpreter only
# (no compiler, no pip, no build tools) and runs as an unprivileged user.
#
# The app's wheel holds only reference_app; the `harness` console script its metadata declares
# is removed with pip and setuptools.
#
# Build context: this file and wheelhouse/ (requirements.txt, the dependencies' wheels and the
# app's wheel). `make images` makes the wheels on the host with pip, because pip inside a build
# container cannot reach the package index behind TLS interception; elsewhere
# `python -m harness.stacks wheelhouse reference_app/deploy/wheelhouse` writes the same.
#
# Run-time contract (no defaults for secrets; pass them when the container starts):
#   DATABASE_URL  postgresql+asyncpg://user:password@db:5432/formulas
#   REDIS_URL     redis://redis:6379/0
#   SECRET_KEY    a long random key
#   ENVIRONMENT   production (default) or development
ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE} AS builder
COPY wheelhouse/ /wheelhouse/
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links=/wheelhouse \
        --requirement /wheelhouse/requirements.txt \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --no-deps /wheelhouse/prodready_harness-*.whl \
 && /opt/venv/bin/pip uninstall --yes pip setuptools \
 && rm -f /opt/venv/bin/harness \
 && /opt/venv/bin/python -c "import reference_app.app"

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /var/lib/app --create-home \
        --shell /usr/sbin/nologin app
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production
WORKDIR /var/lib/app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
# Two workers, as production runs several: `serve` makes them share their metrics through a
# private PROMETHEUS_MULTIPROC_DIR under /tmp, so a scrape of either counts both.
CMD ["python", "-m", "reference_app", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--no-migrate"]
