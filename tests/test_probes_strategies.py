"""The validator strategies draw what they say, checked against independent oracles; the
HTML judge and the seeded search."""

from __future__ import annotations

import re

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.probes import strategies as s
from harness.probes.validators import executable_constructs, lost_markup, search

PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"
PROD = s.PasswordPolicy(12, 3)
DEV = s.PasswordPolicy(8, 1)
TAGS = ("b", "i", "em", "strong", "a", "p", "ul", "ol", "li", "code", "pre", "br")
# derandomized: the same examples on every run, so a test of a strategy is never flaky
few = settings(max_examples=100, deadline=None, database=None, derandomize=True)


def _email_ok(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _classes(password: str) -> int:
    """Lower, upper, digit (ASCII), anything else: the strategies' own reading."""
    kinds = {
        "lower" if c in s.CLASSES["lower"] else
        "upper" if c in s.CLASSES["upper"] else
        "digit" if c in s.CLASSES["digit"] else "other"
        for c in password
    }  # fmt: skip
    return len(kinds)


@few
@given(s.valid_emails())
def test_valid_emails_are_valid(value: str) -> None:
    assert _email_ok(value), value


@few
@given(s.invalid_emails())
def test_invalid_emails_are_invalid(value: str) -> None:
    assert not _email_ok(value), value


@few
@given(s.valid_usernames(PATTERN), s.invalid_usernames(PATTERN))
def test_usernames_either_side_of_the_pattern(good: str, bad: str) -> None:
    assert re.fullmatch(PATTERN, good)
    assert not re.fullmatch(PATTERN, bad)


def test_length_bounds_of_a_pattern() -> None:
    assert s.length_bounds(PATTERN) == (3, 32)
    assert s.length_bounds(r"^\w+$") is None


@few
@given(s.strong_passwords(PROD), s.short_passwords(PROD), s.few_class_passwords(PROD))
def test_passwords_around_the_production_policy(strong: str, short: str, weak: str) -> None:
    assert len(strong) >= 12
    assert _classes(strong) == 4
    assert len(short) <= 11
    assert _classes(short) == 4
    assert len(weak) >= 12
    assert _classes(weak) == 2


@few
@given(s.short_passwords(PROD).filter(lambda p: any(c in s.MULTIBYTE_SYMBOLS for c in p)))
def test_short_multibyte_passwords_are_long_in_bytes(short: str) -> None:
    assert len(short) <= 11
    if len(short) == 11:
        assert len(short.encode()) >= 12


@few
@given(s.relaxed_passwords(DEV), s.username_passwords(DEV))
def test_relaxed_and_username_passwords(relaxed: str, pair: tuple[str, str]) -> None:
    assert 8 <= len(relaxed) <= 11
    password, username = pair
    assert len(username) >= 3
    assert username.lower() in password.lower()


@few
@given(s.attack_html(TAGS), s.safe_html(TAGS))
def test_attacks_run_and_safe_markup_does_not(attack: str, safe: str) -> None:
    # "<scr<script>ipt>" runs only once a naive filter took "<script>" out
    assert executable_constructs(attack) or executable_constructs(attack.replace("<script>", ""))
    assert not executable_constructs(safe), safe
    assert lost_markup(safe, safe) == []


@pytest.mark.parametrize(
    ("markup", "found"),
    [
        ('<a href=" JaVa&#x53;cript:x">a</a>', ["<a href=' JaVaScript:x'>"]),
        ("<img src=x onerror=alert(1)>", ["<img onerror=...>"]),
        ("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", []),
        ('<a href="https://example.com" rel="noopener">x</a>', []),
        ("<svg><script>1</script></svg>", ["<script>"]),
    ],
)
def test_executable_constructs(markup: str, found: list[str]) -> None:
    assert executable_constructs(markup) == found


def test_lost_markup_names_tags_links_and_text() -> None:
    given_ = '<p><b>x</b><a href="https://e.com/1">y</a></p>'
    assert lost_markup(given_, "<p>x</p>") == [
        "<b>",
        "<a>",
        'href="https://e.com/1"',
        "the text 'xy'",
    ]


def test_search_is_seeded_and_minimal() -> None:
    def wrong(n: int) -> str | None:
        return "too big" if n > 10 else None

    first = search("small", st.integers(0, 1000), wrong, seed=5, max_examples=50)
    again = search("small", st.integers(0, 1000), wrong, seed=5, max_examples=50)
    assert first is not None
    assert first.example == 11
    assert first.outcome == "too big"
    assert again == first
    assert search("small", st.integers(0, 5), wrong, seed=5, max_examples=50) is None


def test_search_raises_what_the_judge_raised() -> None:
    def broken(n: int) -> str | None:
        raise OSError("child gone")

    with pytest.raises(OSError, match="child gone"):
        search("any", st.integers(), broken, seed=1, max_examples=10)


def test_a_validator_judged_by_its_outcomes() -> None:
    from harness.probes.modulecall import ModuleError, Outcome
    from harness.probes.validators import Validator

    def call(module: str, name: str, value: int) -> Outcome:
        if value == 7:
            raise ModuleError("the child process running m.f exited 3: gone")
        if value > 3:
            return Outcome(True, value)
        return Outcome(False, error="too small", type="ValueError", mro=("ValueError",))

    check = Validator(call, "m", "f", seed=2, max_examples=50)
    found = check.find("small values are refused", st.integers(0, 6), True)
    assert found is not None
    assert found.example == 4
    assert check.message(found) == (
        "f(4) returned 4, but small values are refused; minimal example of hypothesis seed 2: "
        "replay with --param hypothesis_seed=2"
    )
    assert check.find("small values are refused", st.integers(0, 3), True) is None
    gone = check.find("anything is accepted", st.just(7), False)
    assert gone is not None
    assert gone.outcome == "got no answer: the child process running m.f exited 3: gone"
