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


def _replace(config: str, old: str, new: str) -> str:
    if old not in config:
        raise ValueError(f"the nginx template no longer contains {old!r}")
    return config.replace(old, new)


@register_frontend(
    "frontend-headers-not-always",
    breaks=("DEP-FRONTEND-HEADERS",),
    description="add_header without 'always': nginx drops the security headers on 4xx/5xx",
)
def _headers_not_always(config: str) -> str:
    start = config.index("# begin:security-headers")
    end = config.index("# end:security-headers")
    return config[:start] + config[start:end].replace(" always;", ";") + config[end:]


@register_frontend(
    "frontend-gzip-off",
    breaks=("DEP-FRONTEND-GZIP",),
    description="gzip switched off in nginx",
)
def _gzip_off(config: str) -> str:
    return _replace(config, "    gzip on;", "    gzip off;")


@register_frontend(
    "frontend-assets-not-cached",
    breaks=("DEP-FRONTEND-ASSET-CACHE",),
    description="fingerprinted assets served with no-cache instead of a long lifetime",
)
def _assets_not_cached(config: str) -> str:
    return config.replace('"public, max-age=31536000, immutable"', '"no-cache"')


@register_frontend(
    "frontend-shell-cached",
    breaks=("DEP-FRONTEND-ASSET-CACHE",),
    description="index.html cached for a year, so a deploy never reaches returning users",
)
def _shell_cached(config: str) -> str:
    return _replace(
        config,
        '        default                       "no-cache";',
        '        default                       "public, max-age=31536000";',
    )


@register_frontend(
    "frontend-no-api-proxy",
    breaks=("DEP-FRONTEND-PROXY",),
    description="nginx proxies no /api/: API paths fall through to the app's HTML shell",
)
def _no_api_proxy(config: str) -> str:
    return _replace(config, "        location /api/ {", "        location /api-unused/ {")
