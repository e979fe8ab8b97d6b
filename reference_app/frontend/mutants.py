"""Mutants of the frontend's nginx configuration."""

from __future__ import annotations

from reference_app.frontend import cut_block
from reference_app.mutants import register_frontend


@register_frontend(
    "frontend-no-health",
    breaks=("MON-HEALTH-007",),
    description="the nginx frontend has no /health location (falls through to the SPA)",
)
def _no_health(config: str) -> str:
    return cut_block(config, "health")
