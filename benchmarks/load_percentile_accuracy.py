"""Accuracy of the load harness's percentiles against the truth a server recorded.

The ``latency`` synthetic target answers after delays from a known distribution and writes
every delay it served; the harness runs a scenario against it well below saturation (each
user's interval is longer than the longest delay, so there is nothing to correct for
coordinated omission). Its reported p50/p95/p99 (raw and corrected) and locust's own figures
are compared with the exact percentiles of the served delays; the acceptance criterion is
harness within 2 % or 2 ms of the truth.

    .venv/bin/python benchmarks/load_percentile_accuracy.py [--users 20] [--user-rps 2]
        [--seconds 40]
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

from harness.load.results import LoadResult
from harness.load.runner import run_scenario
from harness.load.scenarios import Scenario
from harness.load.synthetic import synthetic_target

PERCENTILES = (50.0, 95.0, 99.0)
TOLERANCE_PCT = 2.0
TOLERANCE_MS = 2.0
MAX_DELAY_MS = 400.0  # the latency target's longest delay


def exact_percentile(values: list[float], percentile: float) -> float:
    """Nearest rank: the smallest value with at least ``percentile`` % of values at or below."""
    ordered = sorted(values)
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return ordered[rank - 1]


def within(measured: float, truth: float) -> bool:
    error = abs(measured - truth)
    return error <= TOLERANCE_MS or error <= truth * TOLERANCE_PCT / 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent users")
    parser.add_argument("--user-rps", type=float, default=2.0, help="planned req/s per user")
    parser.add_argument("--seconds", type=float, default=40.0, help="length of the run")
    args = parser.parse_args()
    interval_ms = 1000 / args.user_rps
    if interval_ms <= MAX_DELAY_MS:
        parser.error(f"--user-rps must keep the interval ({interval_ms:g} ms) above 400 ms")
    scenario = Scenario(
        name="smoke",
        users=args.users,
        duration_s=args.seconds,
        spawn_rate=float(args.users),
        user_rps=args.user_rps,
    )
    with tempfile.TemporaryDirectory(prefix="bench-load-accuracy-") as tmp:
        workdir = Path(tmp)
        record = workdir / "served_ms.txt"
        with synthetic_target("latency", workdir, "--record", str(record)) as url:
            run = run_scenario(scenario, url, workdir / "out")
        result = LoadResult.from_file(run.result_path, scenario)
        served = [float(line) for line in record.read_text().split()]
    print(
        f"{args.users} users x {args.user_rps:g} req/s for {args.seconds:g} s: harness "
        f"{result.requests} requests, locust {result.locust['requests']}, server served "
        f"{len(served)}; cpu warning: {bool(result.data.get('cpu_warning'))}"
    )
    header = (
        f"{'':>4} {'truth':>8} | {'harness':>8} {'err ms':>7} {'err %':>6} {'ok':>3} | "
        f"{'raw':>8} {'err ms':>7} | {'locust':>7} {'err ms':>7} {'err %':>6} {'ok':>3}"
    )
    print(header)
    print("-" * len(header))
    verdicts: list[bool] = []
    for p in PERCENTILES:
        truth = exact_percentile(served, p)
        corrected = result.percentile_ms(p)
        raw = result.percentile_ms(p, corrected=False)
        ours = float(result.locust[f"p{int(p)}_ms"])
        ok = within(corrected, truth)
        verdicts.append(ok and within(raw, truth))
        print(
            f"p{int(p):<3} {truth:8.2f} | {corrected:8.2f} {corrected - truth:+7.2f} "
            f"{(corrected - truth) / truth * 100:+6.2f} {'yes' if ok else 'NO':>3} | "
            f"{raw:8.2f} {raw - truth:+7.2f} | {ours:7.1f} {ours - truth:+7.2f} "
            f"{(ours - truth) / truth * 100:+6.2f} {'yes' if within(ours, truth) else 'NO':>3}"
        )
    print(
        f"criterion (harness p50/p95/p99 within {TOLERANCE_PCT:g} % or {TOLERANCE_MS:g} ms): "
        + ("MET" if all(verdicts) else "NOT MET")
    )
    truth99 = exact_percentile(served, 99.0)
    print(
        f"harness/truth p99 ratio {result.percentile_ms(99.0) / truth99:.3f}; "
        f"locust/truth p99 ratio {float(result.locust['p99_ms']) / truth99:.3f}"
    )


if __name__ == "__main__":
    main()
