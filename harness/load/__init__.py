"""Load testing: locust scenarios and shapes, a subprocess runner, exact statistics, the gate.

Nothing here imports locust into the caller's process: ``locustfile.py``, ``shapes.py`` and
``recorder.py`` are loaded by locust's own (gevent-patched) processes only.
"""
