"""Exact response times inside the locust process: per-endpoint HDR histograms, corrected for
coordinated omission, merged from every worker, written as JSON when locust quits.

Active only when locust runs with ``--harness-result FILE`` (``harness load`` passes it; the
master forwards it to its workers). Imported by the locustfile, so by gevent-patched processes
only.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import gevent
import psutil

from harness.load.hdr import Recording, outcome_of

SAMPLE_EVERY_S = 1.0
# locust's own threshold, over a few seconds rather than its ten
CPU_WARNING_PERCENT = 90.0
CPU_WINDOW = 3


class Recorder:
    """Recordings of one process; a master (or a local run) also merges its workers'."""

    def __init__(self) -> None:
        self.environment: Any = None
        self.result_path: Path | None = None
        self.active = False
        self.interval_us = 0
        self.window_s = 1.0
        self.reset()
        self.samples: list[dict[str, float]] = []
        self.cpu_warning = False
        self.started_at = 0.0
        self.full_load_at: float | None = None
        self.max_users = 0
        self.workers = 0
        self.scenario: dict[str, Any] | None = None
        self._sampler: Any = None

    def reset(self) -> None:
        self.endpoints: dict[str, Recording] = {}
        self._by_name: dict[tuple[str, str], Recording] = {}
        self.windows: dict[int, Recording] = {}

    # --- listeners -------------------------------------------------------------------------
    def on_init(self, environment: Any, **_: Any) -> None:
        self.environment = environment

    def on_test_start(self, environment: Any, **_: Any) -> None:
        options = environment.parsed_options
        result = getattr(options, "harness_result", None) if options else None
        self.active = bool(result)
        if not self.active:
            return
        self.result_path = Path(str(result))
        rate = float(getattr(options, "harness_user_rps", 0.0) or 0.0)
        self.interval_us = round(1e6 / rate) if rate > 0 else 0
        self.window_s = float(getattr(options, "harness_window_s", 1.0) or 1.0)
        scenario = os.environ.get("HARNESS_LOAD_SCENARIO")
        self.scenario = json.loads(scenario) if scenario else None
        self.reset()
        self.samples = []
        self.cpu_warning = False
        self.started_at = time.time()
        self.full_load_at = None
        self.max_users = 0
        self.workers = 0
        self.cpu: list[float] = []
        if self._sampler is not None:
            self._sampler.kill()  # a second run of the same process (the web UI)
        self._sampler = gevent.spawn(self._sample, not _is_worker(environment))

    def on_request(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float,
        response: Any = None,
        exception: Any = None,
        start_time: float = 0.0,
        **_: Any,
    ) -> None:
        # per request, so kept lean: the generator's throughput is the budget
        if not self.active:
            return
        recording = self._by_name.get((request_type, name))
        if recording is None:
            recording = self._endpoint(request_type, name)
        outcome = None if exception is None else outcome_of(response, exception)
        recording.record(response_time, self.interval_us, outcome)
        window = int((start_time + response_time / 1000.0) / self.window_s)
        slot = self.windows.get(window)
        if slot is None:
            slot = self.windows[window] = Recording.window()
        slot.record(response_time, self.interval_us, outcome)

    def _endpoint(self, request_type: str, name: str) -> Recording:
        key = name if name.startswith(request_type + " ") else f"{request_type} {name}"
        recording = self.endpoints.get(key)
        if recording is None:
            recording = self.endpoints[key] = Recording()
        self._by_name[(request_type, name)] = recording
        return recording

    def on_spawning_complete(self, user_count: int, **_: Any) -> None:
        wanted = int(self.scenario["users"]) if self.scenario else user_count
        if self.full_load_at is None and user_count >= wanted:
            self.full_load_at = time.time()

    def on_cpu_warning(self, **_: Any) -> None:
        self.cpu_warning = True

    def on_report_to_master(self, data: dict[str, Any], **_: Any) -> None:
        if not self.active:
            return
        data["harness"] = self._payload()
        self.reset()

    def on_worker_report(self, data: dict[str, Any], **_: Any) -> None:
        payload = data.get("harness")
        if not self.active or not payload:
            return
        self.cpu_warning = self.cpu_warning or bool(payload.get("cpu_warning"))
        for key, value in payload["endpoints"].items():
            if key not in self.endpoints:
                self.endpoints[key] = Recording()
            self.endpoints[key].add_dict(value)
        for index, value in payload["windows"].items():
            if int(index) not in self.windows:
                self.windows[int(index)] = Recording.window()
            self.windows[int(index)].add_dict(value)

    def on_quitting(self, environment: Any, **_: Any) -> None:
        if not self.active or _is_worker(environment) or self.result_path is None:
            return
        runner = environment.runner
        stats = environment.stats.total
        result = {
            "scenario": self.scenario,
            "started_at": self.started_at,
            "ended_at": time.time(),
            "full_load_at": self.full_load_at,
            "max_users": self.max_users,
            "interval_us": self.interval_us,
            "window_s": self.window_s,
            "workers": self.workers,
            "cpu_warning": bool(
                self.cpu_warning
                or getattr(runner, "cpu_warning_emitted", False)
                or getattr(runner, "worker_cpu_warning_emitted", False)
            ),
            "locust": {
                "requests": stats.num_requests,
                "failures": stats.num_failures,
                "p50_ms": stats.get_response_time_percentile(0.5),
                "p95_ms": stats.get_response_time_percentile(0.95),
                "p99_ms": stats.get_response_time_percentile(0.99),
            },
            **self._payload(),
            "samples": self.samples,
        }
        self.result_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.result_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result), encoding="utf-8")
        tmp.replace(self.result_path)

    # --- helpers ---------------------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        return {
            "endpoints": {key: rec.to_dict() for key, rec in self.endpoints.items()},
            "windows": {str(w): rec.to_dict() for w, rec in self.windows.items()},
            "cpu_warning": self.cpu_warning,
        }

    def _sample(self, runs_users: bool) -> None:
        """This process's CPU once a second (locust's own check first looks after 20 s,
        too late for a short run); on the master also users and workers, for the plot."""
        process = psutil.Process()
        process.cpu_percent(None)  # the first reading is always 0: start the interval
        while self.active:
            gevent.sleep(SAMPLE_EVERY_S)
            cpu = float(process.cpu_percent(None))
            self.cpu.append(cpu)
            recent = self.cpu[-CPU_WINDOW:]
            if len(recent) == CPU_WINDOW and sum(recent) / CPU_WINDOW > CPU_WARNING_PERCENT:
                self.cpu_warning = True
            if runs_users:
                runner = self.environment.runner
                users = int(getattr(runner, "user_count", 0) or 0)
                self.max_users = max(self.max_users, users)
                self.workers = max(self.workers, len(getattr(runner, "clients", {}) or {}))
                self.samples.append({"t": time.time(), "users": users, "cpu": cpu})

    def on_test_stop(self, **_: Any) -> None:
        if self.environment is not None and not _is_worker(self.environment):
            runner = self.environment.runner
            self.max_users = max(self.max_users, int(getattr(runner, "user_count", 0) or 0))


def _is_worker(environment: Any) -> bool:
    return type(environment.runner).__name__ == "WorkerRunner"


RECORDER = Recorder()


def install(events: Any) -> None:
    """Register the recorder's listeners and options on locust's ``events``."""
    events.init.add_listener(RECORDER.on_init)
    events.init_command_line_parser.add_listener(_options)
    events.test_start.add_listener(RECORDER.on_test_start)
    events.test_stop.add_listener(RECORDER.on_test_stop)
    events.request.add_listener(RECORDER.on_request)
    events.spawning_complete.add_listener(RECORDER.on_spawning_complete)
    events.cpu_warning.add_listener(RECORDER.on_cpu_warning)
    events.report_to_master.add_listener(RECORDER.on_report_to_master)
    events.worker_report.add_listener(RECORDER.on_worker_report)
    events.quitting.add_listener(RECORDER.on_quitting)


def _options(parser: Any) -> None:
    group = parser.add_argument_group("harness recorder")
    group.add_argument("--harness-result", default="", help="write exact statistics here (JSON)")
    group.add_argument(
        "--harness-user-rps",
        type=float,
        default=3.0,
        help="requests per second each user plans: the interval the correction for "
        "coordinated omission is measured against",
    )
    group.add_argument(
        "--harness-window-s", type=float, default=1.0, help="seconds per timeline window"
    )
