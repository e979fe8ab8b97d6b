"""The compliance matrix (requirement -> checks -> verdict -> evidence) and its views."""

from harness.report.matrix import MATRIX_SCHEMA_VERSION, MatrixBuilder, write_reports

__all__ = ["MATRIX_SCHEMA_VERSION", "MatrixBuilder", "write_reports"]
