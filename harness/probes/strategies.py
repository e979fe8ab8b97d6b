"""Hypothesis strategies for the input validators: values a validator must refuse and values
it must accept, drawn around each rule's boundary (lengths, character sets, classes).

Each strategy is a plain function returning a ``SearchStrategy``; what is valid is decided
here by construction, never by asking a validator, so a wrong validator cannot agree with
itself. The checks search them with ``harness.probes.validators.search``.
"""

from __future__ import annotations

import html
import re
import string
from dataclasses import dataclass

from hypothesis import strategies as st

# -- email ---------------------------------------------------------------------------------

_LOCAL_CHARS = string.ascii_letters + string.digits + "+_-"
# reserved names (RFC 6761: test, invalid, localhost...) are no deliverable domain: left out
_TLDS = ("com", "org", "net", "io", "de", "jp", "info", "co")
# internationalised labels that IDNA 2008 accepts: several scripts
_IDN_LABELS = ("bücher", "münchen", "пример", "例え", "δοκιμή", "español", "société", "日本語")


def _label(min_size: int = 1, max_size: int = 20) -> st.SearchStrategy[str]:
    # "ab--" labels are reserved for IDNA encodings (xn--): no hostname may invent one
    inner = string.ascii_lowercase + string.digits
    return st.from_regex(
        rf"\A[a-z0-9](?:[{re.escape(inner)}-]{{0,{max_size - 2}}}[a-z0-9])?\Z", fullmatch=True
    ).filter(lambda s: min_size <= len(s) <= max_size and s[2:4] != "--")


def _local_part() -> st.SearchStrategy[str]:
    atom = st.text(alphabet=_LOCAL_CHARS, min_size=1, max_size=12)
    return st.lists(atom, min_size=1, max_size=3).map(".".join).filter(lambda s: len(s) <= 64)


def _domain(international: bool = False) -> st.SearchStrategy[str]:
    first = st.sampled_from(_IDN_LABELS) if international else _label()
    return st.builds(
        lambda a, middle, tld: ".".join([a, *middle, tld]),
        first,
        st.lists(_label(), max_size=2),
        st.sampled_from(_TLDS),
    )


def valid_emails() -> st.SearchStrategy[str]:
    """Addresses every validator must take: ASCII and internationalised domains."""
    return st.builds(
        lambda local, domain: f"{local}@{domain}",
        _local_part(),
        st.one_of(_domain(), _domain(international=True)),
    )


def _broken(email: str, how: str) -> str:
    local, _, domain = email.partition("@")
    return {
        "no @": local + domain,
        "two @": f"{local}@{local}@{domain}",
        "space in local": f"{local[:1]} {local[1:]}@{domain}",
        "space in domain": f"{local}@{domain.replace('.', ' .', 1)}",
        "no dot in domain": f"{local}@{domain.split('.')[0]}",
        "empty local": f"@{domain}",
        "empty domain": f"{local}@",
        "leading dot": f".{local}@{domain}",
        "double dot": f"{local}..x@{domain}",
        "trailing dot": f"{local}.@{domain}",
        "hyphen first in domain": f"{local}@-{domain}",
        "label over 63": f"{local}@{'b' * 64}.{domain}",
        "address over 254": f"{local}@{'.'.join(['c' * 60] * 5)}.{domain}",
        "angle brackets": f"<{local}@{domain}>",
        "newline": f"{local}@{domain}\n",
    }[how]


EMAIL_DEFECTS = (
    "no @", "two @", "space in local", "space in domain", "no dot in domain", "empty local",
    "empty domain", "leading dot", "double dot", "trailing dot", "hyphen first in domain",
    "label over 63", "address over 254", "angle brackets", "newline",
)  # fmt: skip


def invalid_emails() -> st.SearchStrategy[str]:
    """Addresses every validator must refuse: a valid one broken in one known way
    (``a@b``, no ``@``, spaces, over-long parts, ...)."""
    return st.builds(_broken, valid_emails(), st.sampled_from(EMAIL_DEFECTS))


# -- username --------------------------------------------------------------------------------

_BOUNDS = re.compile(r"\{(\d+),(\d+)\}\$?\Z")
_FORBIDDEN = (" ", "@", "<", ">", "/", "\\", "'", '"', ";", "é", "\x00", "\n", "\t", "ß", "😀")


def length_bounds(pattern: str) -> tuple[int, int] | None:
    """``(min, max)`` of a pattern ending in ``{m,n}`` (with or without ``$``), else None."""
    found = _BOUNDS.search(pattern)
    return (int(found[1]), int(found[2])) if found else None


def valid_usernames(pattern: str) -> st.SearchStrategy[str]:
    """Names matching ``pattern``, its shortest and longest included."""
    matching = st.from_regex(pattern, fullmatch=True)
    bounds = length_bounds(pattern)
    if bounds is None:
        return matching
    edges = st.sampled_from(bounds).flatmap(
        lambda n: st.text(alphabet=string.ascii_letters + string.digits, min_size=n, max_size=n)
    )
    return st.one_of(matching, edges).filter(lambda s: re.fullmatch(pattern, s) is not None)


def invalid_usernames(pattern: str) -> st.SearchStrategy[str]:
    """Names ``pattern`` refuses: one too short or too long, or a valid one with a character
    outside its set (space, ``@``, ``<``, NUL, a newline at the end, non-ASCII ...)."""

    def spoil(name: str, char: str, where: int) -> str:
        at = where % (len(name) + 1)
        return name[:at] + char + name[at:]

    spoilt = st.builds(
        spoil, valid_usernames(pattern), st.sampled_from(_FORBIDDEN), st.integers(0, 64)
    )
    choices = [spoilt, valid_usernames(pattern).map(lambda s: s + "\n")]
    bounds = length_bounds(pattern)
    if bounds is not None:
        low, high = bounds
        alphabet = string.ascii_lowercase + string.digits
        if low > 0:
            choices.append(st.text(alphabet=alphabet, min_size=low - 1, max_size=low - 1))
        choices.append(st.text(alphabet=alphabet, min_size=high + 1, max_size=high + 8))
    return st.one_of(choices).filter(lambda s: re.fullmatch(pattern, s) is None)


# -- password --------------------------------------------------------------------------------

# symbols of more than one byte in UTF-8 that are "other" under any reading of the classes
# (not letters, not digits): a validator counting bytes sees a longer password than there is
MULTIBYTE_SYMBOLS = "§°±€→✓★"
CLASSES = {
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digit": string.digits,
    "other": "!#$%&*+-=?@^_~" + MULTIBYTE_SYMBOLS,
}
# in every public list of the most common passwords
COMMON_PASSWORDS = (
    "password", "12345678", "123456789", "1234567890", "qwerty123", "iloveyou", "sunshine",
    "football", "baseball", "princess", "password1", "welcome1", "trustno1", "superman",
    "1qaz2wsx", "qwertyuiop", "passw0rd", "password123", "Password1", "abc12345",
)  # fmt: skip


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int  # code points
    min_classes: int  # of lower, upper, digit, other


def _password(classes: tuple[str, ...], length: int, multibyte: bool) -> st.SearchStrategy[str]:
    """Exactly ``length`` code points using exactly the ``classes`` named (each at least
    once), shuffled; with ``multibyte``, at least one symbol of several bytes."""
    alphabet = "".join(CLASSES[name] for name in classes)
    required = [st.sampled_from(CLASSES[name]) for name in classes]
    if multibyte:
        required.append(st.sampled_from(MULTIBYTE_SYMBOLS))
    rest = max(length - len(required), 0)
    return st.builds(
        lambda fixed, more, rnd: "".join(rnd.sample(fixed + more, len(fixed) + len(more))),
        st.tuples(*required).map(list),
        st.lists(st.sampled_from(alphabet), min_size=rest, max_size=rest),
        st.randoms(use_true_random=False),
    ).filter(lambda p: len(p) == length and not _looks_common(p))


def _looks_common(password: str) -> bool:
    """Holds a common password, or is guessable the way lists of common ones are: few
    distinct characters, or a run of three repeated or consecutive ones (aaa, abc, 321)."""
    lowered = password.lower()
    if any(common.lower() in lowered for common in COMMON_PASSWORDS):
        return True
    if len(set(lowered)) < min(len(lowered), 6):
        return True
    codes = [ord(c) for c in lowered]
    return any(
        b - a == c - b and abs(b - a) <= 1
        for a, b, c in zip(codes, codes[1:], codes[2:], strict=False)
    )


ALL_CLASSES = ("other", "lower", "upper", "digit")


def strong_passwords(policy: PasswordPolicy) -> st.SearchStrategy[str]:
    """Passwords the policy must accept: ``min``, ``min+1`` and longer code points, every
    class, multibyte symbols among them, nothing common, no username."""
    shortest = max(policy.min_length, len(ALL_CLASSES) + 1)
    lengths = st.sampled_from((shortest, shortest + 1, shortest + 7))
    return st.tuples(lengths, st.booleans()).flatmap(
        lambda nb: _password(ALL_CLASSES, nb[0], nb[1])
    )


def short_passwords(policy: PasswordPolicy) -> st.SearchStrategy[str]:
    """One code point too short (or shorter), every class present; the multibyte ones are at
    least ``min_length`` bytes long, so only counting characters refuses them."""
    top = policy.min_length - 1
    if top < 5:  # too short to hold four classes and a multibyte symbol
        return st.nothing()
    lengths = st.sampled_from((top, top, max(top - 3, 5)))
    return st.tuples(lengths, st.booleans()).flatmap(
        lambda nb: _password(ALL_CLASSES, nb[0], nb[1])
    )


def relaxed_passwords(policy: PasswordPolicy) -> st.SearchStrategy[str]:
    """Shorter than production's 12 yet at the (development) minimum or above, with only
    ``min_classes`` classes (letters first): what a relaxed policy accepts."""
    if policy.min_length >= 12:
        return st.nothing()
    classes = ("lower", "upper", "digit", "other")[: max(policy.min_classes, 1)]
    lengths = st.integers(max(policy.min_length, len(classes)), 11)
    return lengths.flatmap(lambda n: _password(classes, n, False))


def few_class_passwords(policy: PasswordPolicy) -> st.SearchStrategy[str]:
    """Long enough but one class short of ``min_classes`` (nothing when one class will do)."""
    if policy.min_classes <= 1:
        return st.nothing()
    classes = st.sampled_from(list(CLASSES)).flatmap(
        lambda first: st.permutations([c for c in CLASSES if c != first])
    )
    return classes.flatmap(
        lambda order: _password(
            tuple(order[: policy.min_classes - 1]), policy.min_length + 2, False
        )
    )


def username_passwords(policy: PasswordPolicy) -> st.SearchStrategy[tuple[str, str]]:
    """``(password, username)``: a strong password that holds the username (3+ characters),
    in another case: refused when the username is given."""
    names = st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=10)
    return st.builds(
        lambda name, strong, upper: (strong + (name.upper() if upper else name.title()), name),
        names,
        strong_passwords(policy),
        st.booleans(),
    )


# -- HTML ------------------------------------------------------------------------------------

_HANDLERS = ("onerror", "onload", "onclick", "onmouseover", "onfocus", "ONERROR", "OnLoad")
_JS_URLS = (
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
    "jav&#x61;script:alert(1)", "java\tscript:alert(1)", "&#106;avascript:alert(1)",
    "vbscript:msgbox(1)", "data:text/html,<script>alert(1)</script>",
)  # fmt: skip
_ATTACKS = (
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x {handler}=alert(1)>",
    '<img src="x" {handler}="alert(1)">',
    "<svg {handler}=alert(1)>",
    "<p {handler}=alert(1)>text</p>",
    "<b {handler}='alert(1)'>bold</b>",
    '<a href="{url}">link</a>',
    '<iframe src="{url}"></iframe>',
    '<object data="{url}"></object>',
    '<embed src="{url}">',
    "<style>body{{background:url(javascript:alert(1))}}</style>",
    '<meta http-equiv="refresh" content="0;url={url}">',
    '<form action="{url}"><button>go</button></form>',
    '<base href="{url}">',
    '<math><a xlink:href="{url}">x</a></math>',
    "<body {handler}=alert(1)>",
    "<scr<script>ipt>alert(1)</script>",
)


def _text() -> st.SearchStrategy[str]:
    """Plain text, HTML-escaped where it must be (``&``, ``<``, quotes)."""
    alphabet = string.ascii_letters + string.digits + " .,!?&<>'\"éü€"
    return st.text(alphabet=alphabet, max_size=20).map(html.escape)


def _markup(tags: tuple[str, ...], depth: int = 2) -> st.SearchStrategy[str]:
    """Well-formed markup of the allowed ``tags`` only (``a`` with an https link)."""
    leaf = _text()

    def wrap(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        def element(tag: str, inner: str) -> str:
            if tag == "br":
                return f"{inner}<br>"
            if tag == "a":
                return f'<a href="https://example.com/{len(inner)}">{inner}</a>'
            if tag in ("ul", "ol"):
                return f"<{tag}><li>{inner}</li></{tag}>"
            return f"<{tag}>{inner}</{tag}>"

        usable = [t for t in tags if t != "li" or "ul" not in tags]
        return st.builds(element, st.sampled_from(usable), children)

    return st.recursive(leaf, wrap, max_leaves=4).filter(lambda s: "<" in s)


def safe_html(tags: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Markup a sanitiser must keep: the allowed tags around escaped text."""
    return _markup(tags)


def attack_html(tags: tuple[str, ...]) -> st.SearchStrategy[str]:
    """An executable construct (script, event handler, ``javascript:`` URL, ...) between
    pieces of allowed markup."""
    attack = st.builds(
        lambda template, handler, url: template.format(handler=handler, url=url),
        st.sampled_from(_ATTACKS),
        st.sampled_from(_HANDLERS),
        st.sampled_from(_JS_URLS),
    )
    around = st.one_of(st.just(""), _markup(tags))
    return st.builds(lambda a, x, b: a + x + b, around, attack, around)
