"""The injection detectors in-process: tables of cases, and the whole corpora with recall per
class and the false-positive rate printed (``pytest -s tests/test_detect.py``)."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from harness.probes import payloads
from reference_app.core.detect import (
    Options,
    Scanner,
    detect_sqli,
    detect_traversal,
    detect_xss,
    scan_request,
    scan_value,
)

SQLI = [
    "1 OR 1=1", "-1839' or '1'='1", "foo') UNION ALL select NULL --", "x' AND sleep(5)--",
    "1; DROP TABLE users", "admin'--", "' or 1=1#", "1 union select password from users",
    "'; exec master..xp_cmdshell 'dir'--", "1' waitfor delay '0:0:5'--", "sleep(10)",
    "(select*from(select(sleep(5)))x)", "1 AND (SELECT 1 FROM information_schema.tables)",
    "email@x.org';", "9999 or /*!50000select*/ 1", "id=1'::int", "1.e(ascii(1))",
    "Robert'); DROP TABLE Students;--", "'; SELECT pg_sleep(5)--",
]  # fmt: skip
XSS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg/onload=alert()>",
    "javascript:alert(1)", "\" onmouseover=\"alert(1)", "<a href='javascript:x'>",
    "<iframe src=//evil>", "&lt;script&gt;alert(1)&lt;/script&gt;", "\uff1cscript\uff1ealert(1)",
    "ja&tab;vascript:alert(1)", "document.cookie", "window['alert'](1)", "eval('2+2')",
    "<p style=\"background:url(javascript:alert(1))\">", "[].sort.call`${alert}1`",
    "<meta http-equiv=\"refresh\"", "+ADw-script+AD4-",
]  # fmt: skip
TRAVERSAL = [
    "../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/shadow", "....//....//etc",
    "%2e%2e%2f%2e%2e%2fsecret", "%252e%252e%252fsecret", "cat /etc/passwd", "/proc/self/environ",
    ".../.../WINDOWS/win.ini", "/.env", "/app/.git/config", "C:\\Windows\\system32\\x",
]  # fmt: skip
# benign input an API of formulas gets: apostrophes, quotes, operators, prose with keywords
BENIGN = [
    "O'Brien's law", "a-b/c", "E = mc^2", "x^2 + y^2 = r^2", "Pythagoras' theorem",
    "sum of a and b", "rock and roll", "select the best one", "Union of sets A and B",
    "Drop the constant", "f(x) = sin(x) / x", "\"Newton's\" second law: F = m*a",
    "1/2 or 3/4", "50% off", "don't panic", "see docs/guide.md", "C++ and C#",
    "Where is George?", "the ratio a:b", "1950 or 1960", "I <3 maths", "x < y > z",
    "email: ada@example.com", "it's 5 o'clock", "-- not a comment, a dash", "v1.2.3",
    "/api/v1/formulas", "path/to/file.txt", "Kirchhoff's current law (KCL)", "e^(i*pi) + 1 = 0",
]  # fmt: skip


@pytest.mark.parametrize("text", SQLI)
def test_sql_injection_is_detected(text: str) -> None:
    assert scan_value(text, "query", plus_is_space=False) is not None, text
    assert detect_sqli(text), text


@pytest.mark.parametrize("text", XSS)
def test_xss_is_detected(text: str) -> None:
    finding = scan_value(text, "query", plus_is_space=False)
    assert finding is not None, text
    assert finding.kind == "xss", (text, finding)


@pytest.mark.parametrize("text", TRAVERSAL)
def test_traversal_is_detected(text: str) -> None:
    finding = scan_value(text, "query", plus_is_space=False)
    assert finding is not None, text
    assert finding.kind == "traversal", (text, finding)


@pytest.mark.parametrize("text", BENIGN)
def test_benign_input_passes(text: str) -> None:
    assert scan_value(text, "body-json", plus_is_space=False) is None
    assert (detect_sqli(text), detect_xss(text), detect_traversal(text)) == (None, None, None)


def test_the_apps_own_json_bodies_pass() -> None:
    body = b'{"name": "O\'Brien\'s law", "expression": "a-b/c", "description": "x < y and y > z"}'
    headers = [("Content-Type", "application/json")]
    assert scan_request("/api/v1/formulas", "", headers, body) is None
    assert scan_request("/api/v1/formulas", "q=O%27Brien&page=2&size=20", [], b"") is None


def test_request_parts_are_all_inspected() -> None:
    form = [("Content-Type", "application/x-www-form-urlencoded")]
    assert scan_request("/a/..%2f..%2fetc/passwd", "", [], b"").location == "path"  # type: ignore[union-attr]
    assert scan_request("/", "", [("Cookie", "a=<script>x</script>")], b"").location == "cookie"  # type: ignore[union-attr]
    assert scan_request("/", "", [("Referer", "' or 1=1--")], b"").location == "header"  # type: ignore[union-attr]
    assert scan_request("/", "", form, b"v=1+OR+1%3D1").location == "body-form"  # type: ignore[union-attr]
    json_type = [("Content-Type", "application/json")]
    assert scan_request("/", "", json_type, b'{"u": {"$ne": 1}}').kind == "sqli"  # type: ignore[union-attr]
    assert scan_request("/", "", [("Content-Type", "image/png")], b"<script>") is None


def test_options_switch_detectors_and_decoding_depth() -> None:
    no_sqli = Scanner(Options(classes=frozenset({"xss", "traversal"})))
    assert no_sqli.value("1 OR 1=1", "query") is None
    once = Scanner(Options(traversal_rounds=1))
    assert once.value("%252e%252e%252fsecret", "query") is None
    assert Scanner().value("%252e%252e%252fsecret", "query") is not None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("1\x00UNION\x00SELECT\x002--", "sqli"),  # NUL separates SQL tokens like a space
        ("' OR 'a' = N'a'", "sqli"),  # a national-character literal is a literal
        ("md5\\(", "sqli"),  # a call once the backend strips the backslash
        ("x` REGEXP", "sqli"),  # a comparison after an identifier context
        ("1e-320", "sqli"),  # a subnormal double: the range where number parsers hung
        ("18446744073709551615", "sqli"),  # 2**64 - 1
        ("..%c0%af..%c0%afsecret", "traversal"),  # overlong UTF-8 '/'
        ("..\u2216..\u2216secret", "traversal"),  # SET MINUS, mapped to '\\' by Windows
        ('<v:frame src="a.fml"/>', "xss"),  # a namespaced element that loads what it names
        ("<input name=password>", "xss"),  # a form control: it changes what a page's form posts
        ("<d i a l o g open>", "xss"),  # a tag once whitespace is stripped
        ('" onanything=x', "xss"),  # any on… attribute once the input left a value
        ("<x onanything=y>", "xss"),  # any on… attribute in real markup
        ("x onfocus=y", "xss"),  # an event's handler in an unquoted attribute
    ],
)
def test_grammar_rules_catch_shapes_not_words(text: str, kind: str) -> None:
    finding = scan_value(text, "query", plus_is_space=False)
    assert (finding.kind if finding else None) == kind, (text, finding)


@pytest.mark.parametrize(
    "text",
    [
        "Northwind", "schema_name", "MSysAccessObjects", "<xss>", "<b>bold</b>",
        "<img src=cat.png alt=cat>", "1.5e-300", "4294967295 bytes free", "#2 mom",
        "80&#039;s music and more", '"wood" and "sign"', "12\" or 16\" pizza", "sum(a, b)",
        "if (a && b) || c", "order by size, then name", "group by region", "limit 10 per page",
        "group", "hosts", "select x from y where", "select 'and'", "onset = t0",
        "time online = 3 h", "if (x == 1 || y == 2) { z = 3; }",
    ],
)  # fmt: skip
def test_words_and_shapes_of_text_pass(text: str) -> None:
    assert scan_value(text, "query", plus_is_space=False) is None, text


def _scan(record: payloads.Payload) -> bool:
    return (
        scan_request(record.path, record.query, list(record.headers), record.body_bytes) is not None
    )


def test_corpora_recall_and_false_positive_rate() -> None:
    started = time.perf_counter()
    total, hit = Counter[str](), Counter[str]()
    for record in payloads.must_block():
        total[record.cls] += 1
        hit[record.cls] += _scan(record)
    allow = list(payloads.counted(payloads.must_allow()))
    false_positives = [record.id for record in allow if _scan(record)]
    elapsed = time.perf_counter() - started
    rate = len(false_positives) / len(allow)
    pl2 = payloads.load(payloads.MUST_BLOCK_PL2)
    lines = [f"recall {c}: {hit[c]}/{total[c]} = {hit[c] / total[c]:.1%}" for c in payloads.CLASSES]
    lines += [
        f"false positives: {len(false_positives)}/{len(allow)} = {rate:.2%} {false_positives}",
        f"PL2 (report only): {sum(map(_scan, pl2))}/{len(pl2)}",
        f"{len(allow) + total.total()} requests in {elapsed:.2f} s",
    ]
    print("\n".join(lines))  # noqa: T201 - the numbers are the point of this test (-s)
    for cls in payloads.CLASSES:
        assert hit[cls] / total[cls] >= 0.97, cls
    assert rate <= 0.01
    assert elapsed < 10


@pytest.mark.parametrize(
    "text",
    ["<a b=c " * 5000, "<a:b " * 5000, "sin(" * 5000 + "x" + ")" * 5000, "1 and " * 5000],
    ids=["unclosed tags", "namespaced tags", "nested calls", "chained operators"],
)
def test_long_runs_of_one_construct_cost_linear_time(text: str) -> None:
    # the detectors run on every request; html.parser alone is quadratic on unclosed tags
    started = time.perf_counter()
    scan_value(text, "body-json", plus_is_space=False)
    assert time.perf_counter() - started < 5
