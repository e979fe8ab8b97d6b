"""Pure, reusable probing and parsing code: no pytest, typed results, unit-testable."""
