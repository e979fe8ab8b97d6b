"""Injection detectors of the request-validation middleware: SQL injection, XSS and path
traversal, each a tokenizer or parser with rules on what it finds, not a keyword list."""

from reference_app.core.detect.request import (
    ALL_CLASSES,
    Finding,
    Options,
    Scanner,
    scan_request,
    scan_value,
)
from reference_app.core.detect.sqli import detect_sqli
from reference_app.core.detect.traversal import detect_traversal
from reference_app.core.detect.xss import detect_xss

__all__ = [
    "ALL_CLASSES",
    "Finding",
    "Options",
    "Scanner",
    "detect_sqli",
    "detect_traversal",
    "detect_xss",
    "scan_request",
    "scan_value",
]
