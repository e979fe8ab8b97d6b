"""XSS: parse the input with an HTML tokenizer, in the contexts it may land in (text, inside a
tag, inside a quoted attribute), and look for what makes a browser run script: script-capable
elements, event-handler attributes, script URLs; plus JavaScript that reaches the page's
globals (document.cookie, window['alert'](...), eval`...`)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# elements that run script, load active content or change how the page is parsed or sent
_DANGEROUS_TAGS = frozenset(
    {
        # run script (SVG Tiny and XML Events handlers too) or embed a document or plug-in
        "script", "handler", "listener", "iframe", "frame", "frameset", "object", "embed",
        "applet", "portal", "layer", "ilayer",
        # change where the page's URLs, styles, refreshes or form posts go
        "base", "link", "meta", "style", "form", "isindex",
        # form controls: inside the page's own form they change what it posts
        "input", "button", "textarea", "select", "keygen",
        # foreign content and inert templates: the parser switches rules (mutation XSS)
        "svg", "math", "template", "noscript", "xml", "import",
    }
)  # fmt: skip
_URL_ATTRS = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "code",
    "codebase",
    "xlink:href",
    "background",
    "dynsrc",
    "lowsrc",
    "poster",
    "srcdoc",
    "from",
    "to",
    "values",
}
_SCRIPT_URL = re.compile(r"^\s*(?:java|vb|live)script\s*:|^\s*data\s*:", re.I)
_SCRIPT_SCHEME = re.compile(r"(?:java|vb|live)script\s*:", re.I)
# an attribute that runs script, at an attribute boundary (after a quote, slash or space)
_HANDLER = re.compile(
    r"(?:^|[\s\"'`;,(])(on[a-z]{3,40}|formaction|srcdoc)\s*=|/on[a-z]{3,40}\s*=\s*[^\s&=]",
    re.I,
)
# the events browsers fire (HTML, DOM, UI, pointer, touch, media, CSS, SVG/SMIL, legacy IE):
# in text, "onset = t0" is a formula; only "onload=" names a handler a browser would run
_EVENT_NAMES = """
    abort activate afterprint afterupdate animationcancel animationend animationiteration
    animationstart auxclick beforeactivate beforecopy beforecut beforedeactivate
    beforeeditfocus beforeinput beforematch beforepaste beforeprint beforetoggle
    beforeunload beforeupdate begin blur bounce cancel canplay canplaythrough change click
    close contextlost contextmenu contextrestored controlselect copy cuechange cut
    dataavailable datasetchanged datasetcomplete dblclick deactivate drag dragend dragenter
    dragleave dragover dragstart drop durationchange emptied end ended error errorupdate
    filterchange finish focus focusin focusout formdata fullscreenchange fullscreenerror
    gotpointercapture hashchange help input invalid keydown keypress keyup languagechange
    layoutcomplete load loadeddata loadedmetadata loadend loadstart losecapture
    lostpointercapture message messageerror mousedown mouseenter mouseleave mousemove
    mouseout mouseover mouseup mousewheel move moveend movestart offline online pagehide
    pagereveal pageshow pageswap paste pause play playing pointercancel pointerdown
    pointerenter pointerleave pointermove pointerout pointerover pointerrawupdate pointerup
    popstate progress propertychange ratechange readystatechange rejectionhandled repeat
    reset resize rowenter rowexit rowsdelete rowsinserted scroll scrollend search seeked
    seeking select selectionchange selectstart show slotchange stalled start storage submit
    suspend timeupdate toggle touchcancel touchend touchmove touchstart transitioncancel
    transitionend transitionrun transitionstart unhandledrejection unload volumechange
    waiting webkitanimationend webkitanimationiteration webkitanimationstart
    webkitplaybacktargetavailabilitychanged webkittransitionend wheel zoom
"""
_EVENTS = frozenset(_EVENT_NAMES.split())


def _runs(name: str, *, in_markup: bool) -> bool:
    """``name`` is an attribute a browser runs as script: any on… name in real markup or once
    the input has left an attribute value, else only the name of an event."""
    bare = name.lower()
    if bare in ("formaction", "srcdoc"):
        return True
    return bare.startswith("on") and (in_markup or bare[2:] in _EVENTS)


# a tag opener, also spelt out with spaces or a namespace prefix (< x: script, <f o r m)
_TAG_OPEN = re.compile(r"<\s*(?:[a-z]*\s*:\s*)?((?:[a-z]\s+)+[a-z]\b|[a-z]+)(?=[\s/>]|$)", re.I)
_DATA_URL = re.compile(r"\bdata\s*:[^,]{0,64},.*<", re.I | re.S)
_PI_IMPORT = re.compile(r"<\?\s*import\b", re.I)
_STYLE_ACTIVE = re.compile(
    r"expression\s*\(|url\s*\(\s*['\"]?\s*(?:java|vb)script|-moz-binding|behavior\s*:|@import", re.I
)
_JS_GLOBALS = re.compile(
    r"\b(?:document|window|self|top|parent|frames|globalThis)\s*\)?\s*"
    r"(?:\.\s*(?:cookie|location|domain|write|writeln|body|head|"
    r"createElement|querySelector|getElementById|open|eval|alert|localStorage|"
    r"sessionStorage|referrer|URL|documentURI)\b|\[)",
    re.I,
)
_JS_SINKS = re.compile(
    r"\b(?:alert|prompt|confirm|eval|atob|btoa|setTimeout|setInterval|execScript|"
    r"globalEval|importScripts|import)\s*(?:\(|`)|\bnew\s+Function\b",
    re.I,
)
_JS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_URL_NOISE = re.compile(r"[\t\n\r\x00]")
_ESCAPED_BYTES = re.compile(r"(?:\\x[0-9a-fA-F]{2})+")
_TAGGED_TEMPLATE = re.compile(
    r"\.\s*(?:/\*.*?\*/\s*)*(?:call|apply|bind)\s*`|\$\{\s*(?:alert|eval|[a-z.]+)\s*\}", re.I
)
_JSFUCK = re.compile(r"(?:[!+]\s*)+\[\s*\]|\[\s*\]\s*\[|\(\s*!\s*\[\s*\]")
_UTF7 = re.compile(r"\+AD[wW]-|\+AD4-")
_ES_IMPORT = re.compile(r"\bimport\s*(?:\{[^}]*\}|\*\s+as\s+\w+|\w+)\s*from\s*['\"]")
_DOCTYPE_ENTITY = re.compile(r"<!\s*(?:ENTITY|DOCTYPE)|!ENTITY\s+%", re.I)
_LOADS = frozenset({"src", "href", "data", "xlink:href"})
# the same without a parser: "<v:frame src=", also with the prefix left empty ("<:frame src=")
_NAMESPACED_LOAD = re.compile(
    r"<\s*[a-z]*\s*:\s*[a-z][\w-]*\s[^<>]{0,200}?\b(?:src|href|data)\s*=", re.I
)
_SSI = re.compile(r"<!--\s*#\s*(?:exec|include|set|echo)\b", re.I)
_CONTEXTS = ("", "<x ", '<x a="', "<x a='", "<x a=")


class _Collector(HTMLParser):
    def __init__(self, *, context: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []
        self.context = context  # the first tag is the one a context put around the input
        self.tags = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)

    def handle_pi(self, data: str) -> None:
        if data.lower().lstrip("?").strip().startswith("import"):
            self.findings.append("<?import> processing instruction")

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1
        local = tag.rsplit(":", 1)[-1]
        if local in _DANGEROUS_TAGS and tag != "x":
            self.findings.append(f"<{tag}> element")
        if local in ("body", "html") and attrs and tag != "x":
            # the parser adds a stray <body>'s or <html>'s attributes to the page's own
            self.findings.append(f"<{tag}> attributes merged into the page's element")
        if ":" in tag and any(name in _LOADS and value for name, value in attrs):
            # a namespaced element (VML, XBL, HTC behaviours) that loads what it names
            self.findings.append(f"<{tag}> namespaced element loading a resource")
        for name, value in attrs:
            bare = name.rsplit(":", 1)[-1].lstrip("/\"'")
            # on the context's own element the input is text until it names an event
            real = not (self.context and self.tags == 1)
            if bare.isalpha() and len(bare) > 4 and _runs(bare, in_markup=real):
                self.findings.append(f"event handler attribute {name}")
            if value and (bare in _URL_ATTRS or tag != "x") and _SCRIPT_URL.search(value):
                self.findings.append(f"script URL in {name}")
            if value and bare == "style" and _STYLE_ACTIVE.search(_css_unescape(value)):
                self.findings.append("active style")
            if (
                name.startswith("xmlns") or bare in ("formaction", "http-equiv", "srcdoc")
            ) and tag != "x":
                self.findings.append(f"attribute {name}")


# html.parser rescans an unclosed tag to the end of its input for every '<': quadratic on a
# long run of them. Text is parsed in overlapping windows; the contexts that put the input
# inside a tag only matter where the input begins.
_WINDOW, _OVERLAP = 2048, 256


def _parse(markup: str, *, context: bool = False) -> list[str]:
    parser = _Collector(context=context)
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup: judge by the rest
        pass
    return parser.findings


def _html_findings(text: str) -> str | None:
    step = _WINDOW - _OVERLAP
    for start in range(0, max(len(text) - _OVERLAP, 1), step):
        findings = _parse(text[start : start + _WINDOW])
        if findings:
            return findings[0]
    head = text[:_WINDOW]
    for prefix in _CONTEXTS[1:]:
        if not any(c in head for c in "\"' /"):
            break
        findings = _parse(prefix + head + ">", context=True)
        real = [f for f in findings if not f.startswith(("<x>", "attribute"))]
        if real and any(f.startswith(("event handler", "script URL")) for f in real):
            return real[0]
    return None


_SEVEN_BIT = {code: code & 0x7F for code in range(0xA0, 0x100)}
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?")


def _css_unescape(value: str) -> str:
    """CSS hex escapes (``\\006a`` is ``j``), which style sheets decode before they apply."""
    if "\\" not in value:
        return value
    return _CSS_ESCAPE.sub(lambda m: chr(min(int(m.group(1), 16), 0x10FFFF)), value)


def _seven_bit(match: re.Match[str]) -> str:
    # US-ASCII "malformed encoding": bytes with the high bit set read as 7-bit ASCII
    return "".join(chr(int(h, 16) & 0x7F) for h in re.findall(r"[0-9a-fA-F]{2}", match.group()))


def _markup(text: str) -> str | None:
    found = _html_findings(text)
    if found:
        return found
    for match in _TAG_OPEN.finditer(text):
        spelt = match.group(1)
        name = re.sub(r"\s+", "", spelt).lower()
        if name in _DANGEROUS_TAGS:
            return f"<{name}> element"
        if len(name) >= 4 and len(spelt) >= 2 * len(name) - 1:
            # "<d i a l o g": a tag once a filter or template strips the whitespace
            return f"tag <{name}> spelt out letter by letter"
    if _NAMESPACED_LOAD.search(text):
        return "namespaced element loading a resource"
    if _DOCTYPE_ENTITY.search(text) or _SSI.search(text) or _PI_IMPORT.search(text):
        return "markup declaration"
    return None


def _attribute_or_url(text: str) -> str | None:
    for match in _HANDLER.finditer(text):
        name = match.group(1)
        # after a quote, backtick or slash the input has left an attribute value; "onx=" glued
        # is written as an attribute, "onset = t0" as a formula
        left = name is None or text[: match.start(1)].rstrip()[-1:] in ('"', "'", "`", "/")
        if name is None or _runs(name, in_markup=left or text[match.end(1)] == "="):
            return "event handler attribute"
    if _SCRIPT_SCHEME.search(_URL_NOISE.sub("", text)) or _DATA_URL.search(text):
        return "script URL"
    return None


def _script(text: str) -> str | None:
    text = _JS_COMMENT.sub("", text)
    return next((reason for pattern, reason in _SCRIPT_PATTERNS if pattern.search(text)), None)


_SCRIPT_PATTERNS = (
    (_STYLE_ACTIVE, "active style"),
    (_JS_GLOBALS, "access to a browser global"),
    (_JS_SINKS, "call of a JavaScript sink"),
    (_TAGGED_TEMPLATE, "tagged template call"),
    (_JSFUCK, "JSFuck-style obfuscation"),
    (_UTF7, "UTF-7 encoded markup"),
    (_ES_IMPORT, "ES module import"),
    (_DOCTYPE_ENTITY, "markup declaration"),
)


def detect_xss(text: str, *, markup_only: bool = False) -> str | None:
    """A short reason when ``text`` would run script in a page or a script context, else None.

    ``markup_only`` judges HTML structure only (for URL path segments, where file names such
    as ``document.cookie`` are not script)."""
    if len(text) < 3:
        return None
    if _ESCAPED_BYTES.search(text):
        text = _ESCAPED_BYTES.sub(_seven_bit, text)
    if "\u00bc" in text:  # the same flaw on raw Latin-1 text: ¼ reads as '<', ¾ as '>'
        text = text.translate(_SEVEN_BIT)
    found = (_markup(text) if "<" in text else None) or _attribute_or_url(text)
    if found or markup_only:
        return found
    return _script(text)
