"""Normalisation shared by the detectors: the forms an input takes once a backend decodes it."""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import unquote

_PCT_U = re.compile(r"%u([0-9a-fA-F]{4})")
_HEX_ESC = re.compile(r"\\x([0-9a-fA-F]{2})")
MAX_ROUNDS = 4


# overlong UTF-8 (%c0%ae is '.', %c0%af '/', %e0%80%ae '.'): invalid, yet decoded by some
# servers and libraries into the character they spell
_OVERLONG = re.compile(
    r"%[cC][01](%[89abAB][0-9a-fA-F])|%[eE]0%[89][0-9a-fA-F](%[89abAB][0-9a-fA-F])"
)


def _overlong(match: re.Match[str]) -> str:
    lead, cont = match.group(0)[1:3], (match.group(1) or match.group(2))[1:]
    high = int(lead, 16) & 0x1F if match.group(1) else int(match.group(0)[4:6], 16) & 0x3F
    return chr((high << 6) | (int(cont, 16) & 0x3F))


def _percent_once(text: str) -> str:
    text = _PCT_U.sub(lambda m: chr(int(m.group(1), 16)), text)
    if "%" in text:
        text = _OVERLONG.sub(_overlong, text)
    return unquote(text, errors="replace")


def percent_layers(text: str, rounds: int = MAX_ROUNDS) -> list[str]:
    """``text`` and each further percent-decoding of it, until nothing changes."""
    layers = [text]
    for _ in range(rounds):
        decoded = _percent_once(layers[-1])
        if decoded == layers[-1]:
            break
        layers.append(decoded)
    return layers


_LAX_NAMED = re.compile(r"&(tab|newline|colon);?", re.I)
_LAX_CHARS = {"tab": "\t", "newline": "\n", "colon": ":"}


def entity_decode(text: str) -> str:
    """HTML character references, also the lax ones browsers accept (``&#10`` without ``;``,
    ``&tab;`` in any case)."""
    previous = None
    for _ in range(MAX_ROUNDS):
        if previous == text or "&" not in text:
            break
        lax = _LAX_NAMED.sub(lambda m: _LAX_CHARS[m.group(1).lower()], text)
        previous, text = text, html.unescape(lax)
    return text


def fold(text: str) -> str:
    """Compatibility forms folded (fullwidth less-than U+FF1C becomes ``<``); NULs dropped."""
    return unicodedata.normalize("NFKC", text).replace("\x00", "")


# a backslash before punctuation, as magic quotes or a JSON or shell layer writes it; the
# backend that strips it (stripslashes, unescaping) sees "md5(" in "md5\\("
_ESCAPED_PUNCT = re.compile(r"\\([()'\"`;=<>!|&*+,])")


def variants(text: str, *, plus_is_space: bool = False, rounds: int = MAX_ROUNDS) -> list[str]:
    """The distinct decodings of ``text`` a detector should look at."""
    seen: dict[str, None] = {}
    layers = percent_layers(text.replace("+", " ") if plus_is_space else text, rounds)
    if not plus_is_space and "+" in text:  # some backends decode '+' everywhere
        layers += percent_layers(text.replace("+", " "), rounds)
    for layer in layers:
        for form in (layer, fold(layer), fold(entity_decode(layer))):
            seen.setdefault(form, None)
        if "\\" in layer:
            seen.setdefault(_ESCAPED_PUNCT.sub(r"\1", layer), None)
        hexed = _HEX_ESC.sub(lambda m: chr(int(m.group(1), 16)), layer)
        if hexed != layer:
            seen.setdefault(fold(entity_decode(hexed)), None)
    return list(seen)
