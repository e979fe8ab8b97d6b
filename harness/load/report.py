"""A run's reports in ``reports/``: a JSON summary, a per-endpoint table, a PNG plot of latency
percentiles and throughput over time (locust writes its own HTML report beside them)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.load.gate import Exemption, Judgement
from harness.load.hdr import PERCENTILES
from harness.load.results import LoadResult


def summary(
    result: LoadResult, judgements: Sequence[Judgement], exemption: Exemption
) -> dict[str, Any]:
    count_429 = exemption.count_429
    return {
        "scenario": result.data["scenario"],
        "valid": not result.invalid_reasons(),
        "invalid_reasons": result.invalid_reasons(),
        "duration_s": round(result.duration_s, 2),
        "workers": result.data.get("workers", 0),
        "max_users": result.data.get("max_users"),
        "requests": result.requests,
        "errors": result.errors(count_429),
        "error_rate": result.error_rate(count_429),
        "failures": result.failures(),
        "rate_limit": {"generator_exempt": exemption.exempt, "explanation": exemption.reason},
        "throughput": {"achieved_rps": result.achieved_rps, "planned_rps": result.planned_rps},
        "latency_ms": {
            "corrected": {f"p{p:g}": result.percentile_ms(p) for p in PERCENTILES},
            "raw": {f"p{p:g}": result.percentile_ms(p, corrected=False) for p in PERCENTILES},
            "locust": {k: v for k, v in result.locust.items() if k.endswith("_ms")},
        },
        "targets": [j.as_evidence() for j in judgements],
        "endpoints": [e.row(count_429) for e in result.endpoints],
        "timeline": result.timeline(),
    }


def endpoint_table(data: dict[str, Any]) -> str:
    """The per-endpoint table in Markdown (corrected times)."""
    lines = [
        f"# Load run: {data['scenario']['name']} ({data['scenario']['profile']} profile)",
        "",
        f"{data['requests']} requests, error rate {data['error_rate']:.2%}, "
        f"{data['throughput']['achieved_rps']:.1f} req/s achieved of "
        f"{data['throughput']['planned_rps']:.1f} planned; "
        + ("valid run" if data["valid"] else "INVALID: " + "; ".join(data["invalid_reasons"])),
        "",
        "| endpoint | requests | errors | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in data["endpoints"]:
        lines.append(
            f"| `{row['endpoint']}` | {row['requests']} | {row['errors']} | {row['p50_ms']:.1f} "
            f"| {row['p95_ms']:.1f} | {row['p99_ms']:.1f} | {row['max_ms']:.1f} |"
        )
    lines += [
        "",
        "| target | verdict | measured | threshold | margin |",
        "|---|---|---:|---:|---:|",
    ]
    for t in data["targets"]:
        lines.append(
            f"| {t['requirement']} | {_verdict(t)} | "
            f"{t['measured']:.4g} {t['unit']} | {t['threshold']:g} | {t['margin']:+.4g} |"
        )
    return "\n".join(lines) + "\n"


def _verdict(target: dict[str, Any]) -> str:
    if not target["applicable"]:
        return "n/a"
    return "passed" if target["passed"] else "FAILED"


def plot(data: dict[str, Any], path: Path) -> None:
    """Latency percentiles (left) and throughput (right) over the run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timeline = data["timeline"]
    t = [w["t_s"] for w in timeline]
    fig, (latency, rate) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    for key, label in (("p50_ms", "P50"), ("p95_ms", "P95"), ("p99_ms", "P99")):
        latency.plot(t, [w[key] for w in timeline], label=label)
    latency.set_ylabel("response time (ms, corrected)")
    latency.legend(loc="upper left")
    latency.grid(alpha=0.3)
    rate.plot(t, [w["rps"] for w in timeline], label="achieved req/s")
    rate.plot(t, [w["errors_per_s"] for w in timeline], label="errors/s")
    rate.step(
        t,
        [w["planned_rps"] for w in timeline],
        where="post",
        linestyle="--",
        color="grey",
        label="planned req/s",
    )
    rate.set_xlabel("seconds since start")
    rate.set_ylabel("requests per second")
    rate.legend(loc="upper left")
    rate.grid(alpha=0.3)
    fig.suptitle(f"load: {data['scenario']['name']} ({data['scenario']['profile']})")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_reports(
    result: LoadResult,
    judgements: Sequence[Judgement],
    exemption: Exemption,
    out_dir: Path,
) -> dict[str, Path]:
    """Write the summary, table and plot of ``result``; returns their paths by kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = result.scenario.name
    data = summary(result, judgements, exemption)
    paths = {
        "summary": out_dir / f"load_{name}.json",
        "table": out_dir / f"load_{name}.md",
        "plot": out_dir / f"load_{name}.png",
        "html": out_dir / f"load_{name}.html",
    }
    paths["summary"].write_text(json.dumps(data, indent=2), encoding="utf-8")
    paths["table"].write_text(endpoint_table(data), encoding="utf-8")
    plot(data, paths["plot"])
    return paths
