"""The harness's P99 gate against locust's own P99 on a server that freezes.

The ``freeze`` synthetic target stops answering for the first ``--freeze-s`` seconds of every
``--period-s`` (a stop-the-world pause). A closed-loop generator sends almost nothing while it
waits, so locust's own percentiles hide the pause (coordinated omission); the harness corrects
for the requests its users planned but could not send. Both P99s are judged against the
configured LOAD-P99 threshold (1000 ms by default).

    .venv/bin/python benchmarks/load_freeze.py [--seconds 25] [--users 5] [--user-rps 50]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from harness.config import load_config
from harness.load.execute import execute
from harness.load.scenarios import Scenario
from harness.load.synthetic import synthetic_target


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=25.0, help="length of the run")
    parser.add_argument("--users", type=int, default=5, help="concurrent users")
    parser.add_argument("--user-rps", type=float, default=50.0, help="planned req/s per user")
    parser.add_argument("--period-s", type=float, default=10.0, help="freeze period")
    parser.add_argument("--freeze-s", type=float, default=2.0, help="freeze length per period")
    args = parser.parse_args()
    params = dict(load_config().params)
    threshold = float(params["p99_ms"])
    scenario = Scenario(
        name="smoke",
        users=args.users,
        duration_s=args.seconds,
        spawn_rate=100.0,
        user_rps=args.user_rps,
    )
    options = ("--period-s", str(args.period_s), "--freeze-s", str(args.freeze_s))
    with tempfile.TemporaryDirectory(prefix="bench-load-freeze-") as tmp:
        workdir = Path(tmp)
        with synthetic_target("freeze", workdir, *options) as url:
            outcome = execute(scenario, url, params, workdir / "out")
    result = outcome.result
    gate = outcome.judgements["LOAD-P99"]
    harness_p99 = result.percentile_ms(99.0)
    raw_p99 = result.percentile_ms(99.0, corrected=False)
    locust_p99 = float(result.locust["p99_ms"])
    print(
        f"freeze {args.freeze_s:g} s of every {args.period_s:g} s; {args.users} users x "
        f"{args.user_rps:g} req/s planned for {args.seconds:g} s: {result.requests} requests "
        f"({result.achieved_rps:.1f} req/s achieved), cpu warning: "
        f"{bool(result.data.get('cpu_warning'))}"
    )
    print(f"{'':<28} {'P99 ms':>9}   verdict against < {threshold:g} ms")
    print(
        f"{'harness (corrected)':<28} {harness_p99:9.1f}   {verdict(gate.passed)} (LOAD-P99 gate)"
    )
    print(f"{'harness (raw, as measured)':<28} {raw_p99:9.1f}   {verdict(raw_p99 < threshold)}")
    print(f"{'locust own':<28} {locust_p99:9.1f}   {verdict(locust_p99 < threshold)}")
    print(f"gate detail: {gate.detail}")
    ratio = harness_p99 / locust_p99 if locust_p99 > 0 else float("inf")
    print(f"ratio harness P99 / locust P99: {ratio:.1f}")


if __name__ == "__main__":
    main()
