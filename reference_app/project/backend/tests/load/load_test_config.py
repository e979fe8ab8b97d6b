"""The load test scenarios: users, spawn rate and run time of each, as the spec gives them.

    locust -f backend/tests/load/locustfile.py --host=http://localhost:8000 --headless \\
        --users 50 --spawn-rate 5 --run-time 10m --html reports/load_test.html
"""

from __future__ import annotations

SCENARIOS: dict[str, dict[str, int | str]] = {
    "smoke": {"users": 10, "spawn_rate": 2, "run_time": "2m"},
    "baseline": {"users": 50, "spawn_rate": 5, "run_time": "10m"},
    "stress": {"users": 200, "spawn_rate": 10, "run_time": "15m"},
    "spike": {"users": 500, "spawn_rate": 100, "run_time": "5m"},
    "endurance": {"users": 100, "spawn_rate": 5, "run_time": "60m"},
}

# the performance targets every scenario is judged by
TARGETS: dict[str, float] = {
    "p50_ms": 200,
    "p95_ms": 500,
    "p99_ms": 1000,
    "max_error_rate": 0.01,
    "min_throughput_rps": 100,
}


def command(name: str, host: str = "http://localhost:8000") -> str:
    """The headless locust command of one scenario."""
    scenario = SCENARIOS[name]
    return (
        f"locust -f backend/tests/load/locustfile.py --host={host} --headless "
        f"--users {scenario['users']} --spawn-rate {scenario['spawn_rate']} "
        f"--run-time {scenario['run_time']} --html reports/load_test_{name}.html"
    )
