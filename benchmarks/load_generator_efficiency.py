"""Requests/s of the harness's load generator against plain locust, side by side.

One ``fast`` synthetic target (answers at once) serves both generators, alternated for
``--rounds`` rounds so both see the same machine noise:

- plain: a minimal locustfile (``FastHttpUser``, ``constant(0)``, one GET "/") run by plain
  ``locust --headless``;
- harness: the same locustfile through the harness runner (``run_scenario``: its load shape
  and exact recorder; unpaced users, so no correction applies);
- with ``--with-mix``, also the harness's own locustfile (the reference API mix, paced at
  ``--user-rps``), for information: its tasks do more work per request than one GET.

Throughput is steady-state: the harness's whole windows with every user running, plain
locust's total requests over the time from its start to its last request (``--json``). The
CPU seconds of each locust process (from the kernel's accounting of reaped children) give
the generator's cost per request, which does not depend on whether the target saturates.

    .venv/bin/python benchmarks/load_generator_efficiency.py [--seconds 12] [--rounds 3]
        [--users 10]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness.load.results import LoadResult
from harness.load.runner import LOCUSTFILE, run_scenario
from harness.load.scenarios import Scenario
from harness.load.synthetic import synthetic_target

PLAIN_LOCUSTFILE = """\
from locust import FastHttpUser, constant, task


class PlainUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def root(self):
        self.client.get("/")
"""

Measurement = tuple[float, int, float, float]  # req/s, requests, generator CPU s, wall s
Round = Callable[[str, Path, argparse.Namespace], tuple[float, int]]


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(run: Round, url: str, workdir: Path, args: argparse.Namespace) -> Measurement:
    """One round, with the CPU seconds of the locust process it started and waited for."""
    before, began = children_cpu_s(), time.monotonic()
    rate, requests = run(url, workdir, args)
    return rate, requests, children_cpu_s() - before, time.monotonic() - began


def _harness(
    url: str, out: Path, args: argparse.Namespace, locustfile: Path, rps: float
) -> tuple[float, int]:
    scenario = Scenario(
        name="smoke",
        users=args.users,
        duration_s=args.seconds,
        spawn_rate=float(args.users * 100),
        user_rps=rps,
    )
    run = run_scenario(scenario, url, out, locustfile=locustfile)
    result = LoadResult.from_file(run.result_path, scenario)
    return result.achieved_rps, result.requests


def harness_round(url: str, workdir: Path, args: argparse.Namespace) -> tuple[float, int]:
    # user_rps 0: unpaced users plan nothing, so the recorder applies no correction
    return _harness(url, workdir / "harness", args, plain_locustfile(workdir), 0.0)


def mix_round(url: str, workdir: Path, args: argparse.Namespace) -> tuple[float, int]:
    return _harness(url, workdir / "mix", args, LOCUSTFILE, args.user_rps)


def plain_locustfile(workdir: Path) -> Path:
    locustfile = workdir / "plain_locustfile.py"
    locustfile.write_text(PLAIN_LOCUSTFILE)
    return locustfile


def plain_round(url: str, workdir: Path, args: argparse.Namespace) -> tuple[float, int]:
    locustfile = plain_locustfile(workdir)
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless"]
    argv += ["--host", url, "--users", str(args.users), "--spawn-rate", str(args.users * 100)]
    argv += ["--run-time", f"{args.seconds:g}s", "--stop-timeout", "2", "--only-summary"]
    argv += ["--json", "--skip-log", "--exit-code-on-error", "0"]
    done = subprocess.run(
        argv, cwd=workdir, capture_output=True, text=True, timeout=args.seconds + 60, check=True
    )
    entries = json.loads(done.stdout)
    requests = sum(int(e["num_requests"]) for e in entries)
    start = min(float(e["start_time"]) for e in entries)
    last = max(float(e["last_request_timestamp"]) for e in entries)
    return requests / (last - start), requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="length of one run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per generator")
    parser.add_argument("--users", type=int, default=10, help="concurrent users")
    parser.add_argument(
        "--user-rps", type=float, default=1000.0, help="planned req/s per user of the mix"
    )
    parser.add_argument("--with-mix", action="store_true", help="also run the API mix")
    args = parser.parse_args()
    results: dict[str, list[Measurement]] = {"harness": [], "plain": []}
    if args.with_mix:
        results["mix"] = []
    with tempfile.TemporaryDirectory(prefix="bench-load-generator-") as tmp:
        workdir = Path(tmp)
        with synthetic_target("fast", workdir) as url:
            for n in range(1, args.rounds + 1):
                rounds: list[tuple[str, Round]] = [
                    ("harness", harness_round),
                    ("plain", plain_round),
                ]
                if args.with_mix:
                    rounds.append(("mix", mix_round))
                for name, run in rounds:
                    rate, requests, cpu, wall = measured(run, url, workdir, args)
                    results[name].append((rate, requests, cpu, wall))
                    print(
                        f"round {n} {name:<8} {rate:8.1f} req/s  {requests:7d} requests  "
                        f"{cpu / requests * 1e6:6.1f} CPU us/request  "
                        f"(generator {cpu:5.2f} CPU s in {wall:4.1f} s)"
                    )
    medians = {
        name: (
            statistics.median(r for r, _, _, _ in rows),
            statistics.median(c / n * 1e6 for _, n, c, _ in rows),
        )
        for name, rows in results.items()
    }
    for name, (rate, cost) in medians.items():
        print(f"median   {name:<8} {rate:8.1f} req/s  {cost:6.1f} CPU us/request")
    cost_ratio = medians["harness"][1] / medians["plain"][1]
    print(f"CPU cost per request harness/plain = {cost_ratio:.2f}")
    ratio = medians["harness"][0] / medians["plain"][0]
    print(f"efficiency ratio harness/plain = {ratio:.3f} (target >= 0.9)")
    if "mix" in medians:
        mix = medians["mix"][0] / medians["plain"][0]
        print(f"for information: reference API mix / plain = {mix:.3f} (more work per request)")


if __name__ == "__main__":
    main()
