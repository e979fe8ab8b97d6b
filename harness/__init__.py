"""Test and compliance harness for production deployments."""

__version__ = "0.1.0"
