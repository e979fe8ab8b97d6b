"""Judging input validators: a seeded hypothesis search for a value a validator gets wrong,
and what makes sanitised HTML executable.

``search`` runs ``hypothesis.find`` with a fixed budget and seed: the value it returns is the
minimal one hypothesis shrank to, and the same seed finds it again, so a failure is replayed
with ``--param hypothesis_seed=N``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from random import Random
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis.errors import NoSuchExample
from hypothesis.strategies import SearchStrategy

from harness.probes.modulecall import ModuleError, Outcome

T = TypeVar("T")


@dataclass(frozen=True)
class Counterexample:
    """The minimal value of ``prop`` the validator got wrong, with what it did."""

    prop: str
    example: Any
    outcome: str
    seed: int

    def to_json(self) -> dict[str, Any]:
        return {"property": self.prop, "example": repr(self.example), "outcome": self.outcome}


def search(
    prop: str,
    strategy: SearchStrategy[T],
    wrong: Callable[[T], str | None],
    seed: int,
    max_examples: int,
) -> Counterexample | None:
    """The minimal value of ``strategy`` for which ``wrong`` says what went wrong (its
    words), within ``max_examples`` seeded draws; None when none was found. An exception of
    ``wrong`` (a module that cannot be called) ends the search and is raised unchanged."""
    failed: list[BaseException] = []

    def condition(value: T) -> bool:
        if failed:
            return False
        try:
            return wrong(value) is not None
        except Exception as exc:  # re-raised below, after hypothesis has let go
            failed.append(exc)
            return False

    budget = settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    if strategy.is_empty:  # a rule that does not apply (one class is enough): nothing to draw
        return None
    try:
        found = find(strategy, condition, settings=budget, random=Random(seed))
    except NoSuchExample:
        found = None
    if failed:
        raise failed[0]
    if found is None:
        return None
    # asked once more for its words: the search only kept the value
    why = wrong(found) or "wrong"
    return Counterexample(prop, found, why, seed)


# -- HTML that can run -----------------------------------------------------------------------

ACTIVE_TAGS = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "style",
     "link", "meta", "noscript", "template"}
)  # fmt: skip
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster",
     "lowsrc", "dynsrc", "srcdoc", "codebase"}
)  # fmt: skip
_SCHEME_NOISE = re.compile(r"[\x00-\x20]+")
_BAD_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "livescript:")


class _Elements(HTMLParser):
    """Start tags with their attributes (entities decoded, as a browser reads them) and
    the text, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, [(name.lower(), value or "") for name, value in attrs]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parsed(markup: str) -> _Elements:
    parser = _Elements()
    parser.feed(markup)
    parser.close()
    return parser


def executable_constructs(markup: str) -> list[str]:
    """What in ``markup`` a browser would run or load as code: script-like elements, event
    handler attributes, ``javascript:``/``vbscript:``/``data:text/html`` URLs and styles
    with ``expression(`` or script URLs. Empty for inert markup."""
    return list(_constructs(_parsed(markup)))


def _constructs(parsed: _Elements) -> Iterator[str]:
    for tag, attrs in parsed.tags:
        if tag in ACTIVE_TAGS:
            yield f"<{tag}>"
        for name, value in attrs:
            plain = _SCHEME_NOISE.sub("", value).lower()
            if name.startswith("on"):
                yield f"<{tag} {name}=...>"
            elif name in URL_ATTRIBUTES and plain.startswith(_BAD_SCHEMES):
                yield f"<{tag} {name}={value[:40]!r}>"
            elif name == "style" and ("expression(" in plain or "script:" in plain):
                yield f"<{tag} style={value[:40]!r}>"


def lost_markup(given: str, kept: str) -> list[str]:
    """What of the allowed ``given`` markup the sanitised ``kept`` lost: tags (by name, as
    many as given), link targets and the text (whitespace aside)."""
    before, after = _parsed(given), _parsed(kept)
    lost: list[str] = []
    remaining = [tag for tag, _ in after.tags]
    for tag, _ in before.tags:
        if tag in remaining:
            remaining.remove(tag)
        else:
            lost.append(f"<{tag}>")
    hrefs = {value for tag, attrs in after.tags for name, value in attrs if name == "href"}
    lost += [
        f'href="{value}"'
        for tag, attrs in before.tags
        for name, value in attrs
        if name == "href" and value not in hrefs
    ]
    if "".join("".join(before.text).split()) != "".join("".join(after.text).split()):
        lost.append(f"the text {''.join(before.text)[:60]!r}")
    return lost


# -- a validator of the deployment's module ---------------------------------------------------


class _CallFailed(Exception):
    """The child could not answer for ``value`` (it died, hung): no search goes on, since
    each further call would wait for a new child."""

    def __init__(self, value: Any, error: ModuleError) -> None:
        super().__init__(str(error))
        self.value = value


@dataclass(frozen=True)
class Validator:
    """One role's function in the child (``call`` is ``ModuleProcess.call``)."""

    call: Callable[..., Outcome]
    module: str
    name: str
    seed: int
    max_examples: int

    def outcome(self, value: Any, *extra: Any) -> Outcome:
        """What the function did with ``value`` (a tuple: several arguments)."""
        args = value if isinstance(value, tuple) else (value,)
        try:
            return self.call(self.module, self.name, *args, *extra)
        except ModuleError as exc:
            raise _CallFailed(value, exc) from None

    def wrong(self, expect_refusal: bool, *extra: Any) -> Callable[[Any], str | None]:
        """What is wrong with the validator's answer to a value (None when it is right):
        a refusal where acceptance was due or the reverse; a crash is always wrong."""

        def judge(value: Any) -> str | None:
            outcome = self.outcome(value, *extra)
            if outcome.crashed or outcome.refused != expect_refusal:
                return outcome.describe()
            return None

        return judge

    def search(
        self, prop: str, strategy: SearchStrategy[Any], wrong: Callable[[Any], str | None]
    ) -> Counterexample | None:
        """:func:`search` with this validator's seed and budget; a value the child could not
        answer for is the counterexample itself, as found (not shrunk)."""
        try:
            return search(prop, strategy, wrong, self.seed, self.max_examples)
        except _CallFailed as failed:
            return Counterexample(prop, failed.value, f"got no answer: {failed}", self.seed)

    def find(
        self, prop: str, strategy: SearchStrategy[Any], expect_refusal: bool, *extra: Any
    ) -> Counterexample | None:
        return self.search(prop, strategy, self.wrong(expect_refusal, *extra))

    def message(self, found: Counterexample) -> str:
        """One line: the call, what it did, why that is wrong, and how to replay it."""
        args = found.example if isinstance(found.example, tuple) else (found.example,)
        shown = ", ".join(repr(a) for a in args)
        return (
            f"{self.name}({shown}) {found.outcome}, but {found.prop}; minimal example of "
            f"hypothesis seed {found.seed}: replay with --param hypothesis_seed={found.seed}"
        )
