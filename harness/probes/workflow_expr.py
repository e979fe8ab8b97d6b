"""GitHub Actions expressions (``if:`` conditions), evaluated with three-valued logic.

A workflow file is judged without running it, so some values (secrets, inputs, step outputs)
cannot be known: they evaluate to ``UNKNOWN``, and ``UNKNOWN`` propagates through ``!``, ``&&``
and ``||`` the way SQL's NULL does. A condition that is ``UNKNOWN`` may hold. String
comparisons are case-insensitive, as GitHub's are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")
_USES_STATUS = re.compile(r"\b(success|failure|always|cancelled)\s*\(", re.I)
_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\],.*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class ExpressionError(ValueError):
    """The expression does not parse."""


def truthy(value: Any) -> Any:
    """GitHub's truthiness: false, 0, NaN, '' and null are false; ``UNKNOWN`` stays unknown."""
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


def uses_status_function(expression: str) -> bool:
    """GitHub adds an implicit ``success() &&`` unless the condition calls a status function."""
    return bool(_USES_STATUS.search(expression))


def condition_text(raw: object) -> str:
    """The expression of an ``if:`` value: ``${{ }}`` removed when it wraps the whole value.

    Text around or between ``${{ }}`` makes the value a string template, which GitHub treats
    as a non-empty string: always true. It is returned as a quoted literal to say so.
    """
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if raw is None:
        return ""
    text = str(raw).strip()
    inner = text[3:-2] if text.startswith("${{") and text.endswith("}}") else None
    if inner is not None and "${{" not in inner and "}}" not in inner:
        return inner.strip()
    if "${{" in text:
        return "'" + text.replace("'", "''") + "'"
    return text


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return math.nan
    return math.nan


def _compare(op: str, left: Any, right: Any) -> Any:
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    if isinstance(left, str) and isinstance(right, str):
        return _COMPARE[op](left.casefold(), right.casefold())
    if type(left) is type(right) and not isinstance(left, str | int | float | bool):
        # objects and arrays compare by identity in GitHub; two parsed values are never equal
        return op == "!="
    return _COMPARE[op](_number(left), _number(right))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _call(name: str, args: list[Any], status: Callable[[str], Any]) -> Any:
    lowered = name.lower()
    if lowered in STATUS_FUNCTIONS:
        return status(lowered)
    if any(arg is UNKNOWN for arg in args):
        return UNKNOWN
    if lowered in ("startswith", "endswith", "contains") and len(args) == 2:
        haystack, needle = args
        if lowered == "contains" and isinstance(haystack, list):
            return any(_compare("==", item, needle) is True for item in haystack)
        text, part = _text(haystack).casefold(), _text(needle).casefold()
        if lowered == "startswith":
            return text.startswith(part)
        return text.endswith(part) if lowered == "endswith" else part in text
    # format, join, toJSON, fromJSON, hashFiles: values this static reading cannot know
    return UNKNOWN


class _Parser:
    """Recursive descent: || below && below ==/!= below </> below ! below primaries."""

    def __init__(self, text: str, context: Mapping[str, Any], status: Callable[[str], Any]):
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.context = context
        self.status = status

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise ExpressionError(f"cannot read {text[pos:]!r} in {text!r}")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise ExpressionError("the expression ends too early")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r}, found {token[1]!r}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.pos != len(self.tokens):
            raise ExpressionError(f"unexpected {self.peek()!r}")
        return value

    def or_(self) -> Any:
        left = self.and_()
        while self.peek() == "||":
            self.take()
            right = self.and_()
            known = truthy(left)
            if known is UNKNOWN:
                left = True if truthy(right) is True else UNKNOWN
            elif not known:
                left = right
        return left

    def and_(self) -> Any:
        left = self.equality()
        while self.peek() == "&&":
            self.take()
            right = self.equality()
            known = truthy(left)
            if known is UNKNOWN:
                left = False if truthy(right) is False else UNKNOWN
            elif known:
                left = right
        return left

    def equality(self) -> Any:
        left = self.relation()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            left = _compare(op, left, self.relation())
        return left

    def relation(self) -> Any:
        left = self.unary()
        while self.peek() in ("<", "<=", ">", ">="):
            op = self.take()[1]
            left = _compare(op, left, self.unary())
        return left

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            value = truthy(self.unary())
            return UNKNOWN if value is UNKNOWN else not value
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r}")
        if self.peek() == "(":
            return self._call(text)
        literal = {"true": True, "false": False, "null": None}.get(text)
        if literal is not None or text in ("null",):
            return literal
        return self._path(text)

    def _call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.or_())
            if self.peek() == ",":
                self.take()
        self.take(")")
        return _call(name, args, self.status)

    def _path(self, root: str) -> Any:
        value: Any = self.context.get(root, UNKNOWN)
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                key: Any = self.take()[1]
            else:
                key = self.or_()
                self.take("]")
            if value is UNKNOWN or key == "*":
                value = UNKNOWN
            elif isinstance(value, Mapping):
                value = value.get(str(key), UNKNOWN)
            else:
                value = None
        return value


def evaluate(
    expression: str, context: Mapping[str, Any], status: Callable[[str], Any] | None = None
) -> Any:
    """The value of ``expression``; contexts absent from ``context`` are ``UNKNOWN``."""
    return _Parser(expression, context, status or (lambda _name: UNKNOWN)).parse()
