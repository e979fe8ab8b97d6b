"""Mutant images: the reference images with one defect each, built on top of the clean ones."""

from __future__ import annotations

from reference_app.mutants import register_image

register_image(
    "image-root-user",
    breaks=("DEP-BACKEND-NONROOT",),
    description="the backend image runs as root",
    service="backend",
    dockerfile="USER root",
)
register_image(
    "image-no-healthcheck",
    breaks=("DEP-BACKEND-HEALTHCHECK",),
    description="the backend image has no HEALTHCHECK",
    service="backend",
    dockerfile="HEALTHCHECK NONE",
)
register_image(
    "image-gcc-left",
    breaks=("DEP-BACKEND-NO-COMPILER",),
    description="gcc and make left in the final backend image",
    service="backend",
    # the final stage's user is restored so that only the compiler differs
    dockerfile=(
        "USER root\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc make libc6-dev "
        "&& rm -rf /var/lib/apt/lists/*\n"
        "USER 10001:10001"
    ),
)
register_image(
    "image-baked-secret",
    breaks=("DEP-BACKEND-NO-SECRETS",),
    description="a SECRET_KEY baked into the backend image's environment",
    service="backend",
    dockerfile="ENV SECRET_KEY=baked-into-the-image-0123456789abcdef0123456789",
)
register_image(
    "frontend-image-root",
    breaks=("DEP-FRONTEND-NONROOT",),
    description="the frontend image runs nginx as root",
    service="frontend",
    dockerfile="USER root",
)
