"""Reference implementation of the production-readiness spec's backend."""

__version__ = "1.0.0"
