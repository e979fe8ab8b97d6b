"""Loaded by locust next to any locustfile (``-f yours.py,harness/load/recording.py``): the
harness's exact recorder and its options (``harness.load.recorder``)."""

from __future__ import annotations

from locust import events

from harness.load import recorder

recorder.install(events)
