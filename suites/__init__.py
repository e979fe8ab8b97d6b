"""The compliance suites (the package ``harness.suites``): one module per area of the spec."""
