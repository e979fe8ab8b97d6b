"""Recall and false-positive rate of the reference app's injection detectors, in-process, on a
tuning split and a held-out split of the shipped corpora.

The detectors may be tuned on the tuning split only; the held-out split is the measure of how
well they generalise:

- **tuning**: the PL1 must-block records (``crs-must-block.jsonl``) of every CRS rule not
  held out;
- **held-out**: the PL1 records of the rules whose tens block is divisible by four
  (``(rule_id // 10) % 4 == 0``: 942100, 942140, 942160, ..., 941100, 941140, ..., 930100,
  930140; about a quarter of each class), the whole PL2 tier (``crs-must-block-pl2.jsonl``)
  and the ``HELD_OUT`` hand-written lists of ``tests/test_detect_variants.py``;
- **development**: the ``VARIANTS`` lists there, which found the rules' gaps;
- **false positives**: the must-allow corpora (edge cases aside) and the benign texts of
  ``tests/test_detect_variants.py``.

    .venv/bin/python -m benchmarks.detector_recall [--misses N]   (from the repository root)
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Iterable, Sized

from harness.probes import payloads
from reference_app.core.detect import scan_request, scan_value
from tests.test_detect_variants import BENIGN_FORMULAS, HELD_OUT, HELD_OUT_BENIGN, VARIANTS


def held_out(record: payloads.Payload) -> bool:
    """A PL1 record kept out of tuning: its CRS rule's tens block is divisible by four."""
    rule = record.extra.get("rule_id")
    return isinstance(rule, int) and (rule // 10) % 4 == 0


def flagged(record: payloads.Payload) -> bool:
    found = scan_request(record.path, record.query, list(record.headers), record.body_bytes)
    return found is not None


def _recall(title: str, records: Iterable[payloads.Payload], misses: int) -> None:
    total, hit, missed = Counter[str](), Counter[str](), list[str]()
    for record in records:
        total[record.cls] += 1
        if flagged(record):
            hit[record.cls] += 1
        else:
            missed.append(record.id)
    cells = [f"{c} {hit[c]}/{n} ({hit[c] / n:.1%})" for c, n in sorted(total.items())]
    print(f"{title:<28} " + "  ".join(cells))
    if misses and missed:
        print(f"{'':<28} missed: {' '.join(missed[:misses])}")


def _variants(title: str, lists: dict[str, list[str]], misses: int) -> None:
    for cls, texts in sorted(lists.items()):
        missed = [t for t in texts if scan_value(t, "query", plus_is_space=False) is None]
        hit = len(texts) - len(missed)
        print(f"{title + ' ' + cls:<28} {hit}/{len(texts)} ({hit / len(texts):.1%})")
        if misses and missed:
            print(f"{'':<28} missed: {missed[:misses]}")


def _rate(title: str, wrong: Sized, whole: Sized) -> str:
    return f"{title:<28} {len(wrong)}/{len(whole)} ({len(wrong) / len(whole):.2%})"


def _false_positives(misses: int) -> None:
    allow = list(payloads.counted(payloads.must_allow()))
    wrong = [record.id for record in allow if flagged(record)]
    print(_rate("false positives, corpora", wrong, allow))
    for title, texts in (("formulas", BENIGN_FORMULAS), ("held-out", HELD_OUT_BENIGN)):
        rejected = [t for t in texts if scan_value(t, "body-json", plus_is_space=False)]
        print(_rate(f"false positives, {title}", rejected, texts))
        if misses and rejected:
            print(f"{'':<28} rejected: {rejected[:misses]}")
    if misses and wrong:
        print(f"{'':<28} rejected: {wrong[:misses]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", type=int, default=0, help="list up to N misses per line")
    args = parser.parse_args()
    started = time.perf_counter()
    pl1 = payloads.must_block()
    _recall("PL1 tuning", (r for r in pl1 if not held_out(r)), args.misses)
    _recall("PL1 held-out", (r for r in pl1 if held_out(r)), args.misses)
    _recall("PL2 held-out", payloads.load(payloads.MUST_BLOCK_PL2), args.misses)
    _variants("development", VARIANTS, args.misses)
    _variants("held-out", HELD_OUT, args.misses)
    _false_positives(args.misses)
    print(f"{'seconds':<28} {time.perf_counter() - started:.2f}")


if __name__ == "__main__":
    main()
