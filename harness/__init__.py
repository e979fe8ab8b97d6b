"""Test and compliance harness for production deployments.

PYTEST_DONT_REWRITE: ``harness gate`` imports this package before it starts pytest, which
would then warn that an installed harness cannot be assertion-rewritten.
"""

__version__ = "0.1.0"
