"""Mutant images for a container stack: the reference images with one defect each.

A mutant of the reference app (``python -m reference_app mutants`` lists them) may change the
app (the backend container gets ``REFERENCE_APP_MUTANT``), the frontend's nginx configuration
(a derived frontend image with the rewritten config) or an image itself (Dockerfile lines on
top of the service's image). Derived images carry the run's labels and go with the run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docker

MUTANT_ENV_VAR = "REFERENCE_APP_MUTANT"
# the role of the stack's images that a mutant's service names
_ROLE_OF_SERVICE = {"backend": "backend", "frontend": "frontend", "database": "postgres"}


def _tag(service: str, mutant: str, run_id: str) -> str:
    safe_run = re.sub(r"[^a-z0-9_.-]", "-", run_id.lower())[:100]
    return f"prodready-mutant/{service}-{mutant}:{safe_run}"


def mutant_images(
    client: docker.DockerClient,
    mutant: str,
    images: Mapping[str, str],
    run_id: str,
    labels: Mapping[str, str],
) -> dict[str, str]:
    """Build the defective images ``mutant`` needs; returns role -> image to use instead."""
    from harness.stacks.images import build_derived_image
    from harness.stacks.reference import check_mutant, image_nginx_conf

    spec = check_mutant(mutant)
    replaced: dict[str, str] = {}
    header = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
    if spec.frontend:
        tag = _tag("frontend", mutant, run_id)
        build_derived_image(
            images["frontend"],
            header + "COPY nginx.conf /etc/nginx/nginx.conf\n",
            tag,
            dict(labels),
            files={"nginx.conf": image_nginx_conf(mutant).encode()},
            client=client,
        )
        replaced["frontend"] = tag
    for service, lines in spec.image.items():
        role = _ROLE_OF_SERVICE[service]
        tag = _tag(service, mutant, run_id)
        build_derived_image(
            replaced.get(role, images[role]),
            header + lines + "\n",
            tag,
            dict(labels),
            client=client,
        )
        replaced[role] = tag
    return replaced
