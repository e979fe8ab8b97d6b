"""SEC-HDR-CSP-SCRIPT against a table of policies: each row has its verdict and the clause of
CSP Level 3 it follows. Rows marked "Observatory" are the MDN HTTP Observatory's public test
vectors (test/csp.test.js); where our verdict differs, the note says why."""

from __future__ import annotations

import base64
import hashlib

import pytest

from harness.probes import csp, csp_sources
from reference_app.core.middleware.headers_mutants import GLUED_HASHES


def _b64(algorithm: str) -> str:
    return base64.b64encode(hashlib.new(algorithm, b"console.log(1)").digest()).decode()


H256, H384, H512 = _b64("sha256"), _b64("sha384"), _b64("sha512")
H256_URL = H256.replace("+", "-").replace("/", "_").rstrip("=")
OK, FAIL = True, False

# (policy, verdict, the clause or reason)
SCRIPT: list[tuple[str, bool, str]] = [
    ("default-src 'self'", OK, "fallback list: script-src falls back to default-src"),
    ("script-src 'self' https://cdn.example", OK, "a named https host is an allow-list"),
    ("script-src 'self' cdn.example *.cdn.example", OK, "scheme-less host: the page's scheme"),
    ("default-src 'self' 'unsafe-inline'", FAIL, "fallback list: default-src carries it"),
    ("default-src 'unsafe-inline'; script-src https://mozilla.org", OK, "Observatory; fallback"),
    ("default-src 'UNSAFE-INLINE'", FAIL, "Observatory; 2.3.1: keywords case-insensitive"),
    ("script-src 'unsafe-inline'", FAIL, "Observatory"),
    ("default-src 'none'; script-src 'unsafe-eval'", FAIL, "Observatory; string compilation check"),
    ("script-src 'self' 'wasm-unsafe-eval'", OK, "2.3.1: compiles WebAssembly, not eval()"),
    ("script-src 'self' 'report-sample'", OK, "2.3.1: only adds a sample to reports"),
    ("upgrade-insecure-requests", FAIL, "Observatory: scripts unrestricted"),
    ("object-src 'none'", FAIL, "no script-src, no default-src: scripts unrestricted"),
    ("script-src 'none'", OK, "Observatory grades object-src with it: SEC-HDR-CSP-OBJECT here"),
    ("script-src", OK, "2.3.1: an empty source list matches nothing"),
    ("default-src", OK, "Observatory: a valueless default-src is 'none'"),
    # wildcards, scheme-only and clear-text sources ("does url match expression")
    ("script-src *", FAIL, "Observatory: * matches every network host"),
    ("default-src 'none'; script-src *", FAIL, "Observatory"),
    ("default-src *; script-src *; object-src 'none'", FAIL, "Observatory"),
    ("default-src 'self'; script-src 'self' *:443", FAIL, "host-part * with a port"),
    ("default-src 'none'; script-src https://*", FAIL, "Observatory: host-part *"),
    ("script-src http://*.example.org", FAIL, "clear text, wildcard subdomains"),
    ("script-src https:", FAIL, "Observatory: scheme-source"),
    ("script-src HTTPS:", FAIL, "scheme-part is case-insensitive"),
    ("script-src http:", FAIL, "Observatory: scheme-source"),
    ("script-src data:", FAIL, "Observatory: data: URLs are attacker-written scripts"),
    ("script-src ftp:", FAIL, "Observatory: scheme-source"),
    ("script-src 'self' blob:", FAIL, "any scheme-source is every URL of that scheme"),
    ("script-src https://mozilla.org https:", FAIL, "Observatory"),
    ("default-src https://mozilla.org https:", FAIL, "Observatory"),
    ("script-src http://example.org", FAIL, "clear-text host: anyone on the path"),
    ("default-src http://mozilla.org", FAIL, "Observatory: insecure scheme"),
    ("default-src 'none'; script-src ftp://mozilla.org", FAIL, "Observatory: insecure scheme"),
    ("script-src ws://a.example", FAIL, "clear-text websocket scheme"),
    ("script-src 'self'; img-src http: *", OK, "Observatory: passive content only"),
    # a nonce-source or hash-source switches 'unsafe-inline' off ("does a source list allow all
    # inline behavior") only as a whole token
    ("script-src 'self' 'nonce-r4nd0m' 'unsafe-inline'", OK, "allow all inline: a nonce wins"),
    (f"script-src 'self' 'sha256-{H256}' 'unsafe-inline'", OK, "allow all inline: a hash wins"),
    (f"script-src 'sha384-{H384}' 'unsafe-inline'", OK, "2.3.1 hash-algorithm sha384"),
    (f"script-src 'sha512-{H512}' 'unsafe-inline'", OK, "2.3.1 hash-algorithm sha512"),
    (f"script-src 'SHA256-{H256}' 'unsafe-inline'", OK, "ABNF literals are case-insensitive"),
    (f"script-src 'sha256-{H256_URL}' 'unsafe-inline'", OK, "base64url, no padding"),
    ("script-src 'unsafe-inline' 'nonce-abc123' 'unsafe-inline'", OK, "Observatory"),
    ("script-src 'self' 'nonce-' 'unsafe-inline'", FAIL, "base64-value is 1* chars"),
    ("script-src 'self' 'nonce-abc 'unsafe-inline'", FAIL, "no closing quote: not a source"),
    ("script-src 'self' 'nonce-a*c' 'unsafe-inline'", FAIL, "* is outside base64-value"),
    ("script-src 'self' 'nonce-abc'x 'unsafe-inline'", FAIL, "text after the closing quote"),
    (
        f"script-src 'unsafe-inline' 'sha256-{H256}''sha256-{H256}'",
        FAIL,
        "Observatory passes it; two hashes glued are one token that matches no grammar",
    ),
    (f"script-src 'self' 'sha256-{H256}''unsafe-inline'", OK, "glued: neither token counts"),
    ("script-src 'self' 'sha256-abc=' 'unsafe-inline'", FAIL, "3 bytes are no SHA-256"),
    ("script-src 'self' 'sha256-' 'unsafe-inline'", FAIL, "base64-value is 1* chars"),
    (f"script-src 'self' 'sha256-{H256} 'unsafe-inline'", FAIL, "no closing quote"),
    (f"script-src 'self' 'sha256-{H256}==' 'unsafe-inline'", FAIL, "padding past the group"),
    (f"script-src 'self' 'sha1-{H256}' 'unsafe-inline'", FAIL, "sha1 is no hash-algorithm"),
    (f"script-src 'self' 'sha384-{H256}' 'unsafe-inline'", FAIL, "digest length of sha256"),
    ("script-src 'nonce-r4nd0m' 'unsafe-eval'", FAIL, "a nonce does not cover eval"),
    # 'strict-dynamic': host and scheme sources ignored once a nonce or hash starts trust
    ("default-src 'none'; script-src 'strict-dynamic' 'nonce-abc123'", OK, "Observatory"),
    (f"script-src 'strict-dynamic' 'sha256-{H256}' https://*", OK, "Observatory; strict-dynamic"),
    (f"script-src 'strict-dynamic' 'sha256-{H256}' 'unsafe-inline'", OK, "Observatory"),
    ("script-src 'strict-dynamic' 'nonce-abc' 'unsafe-inline' https: http:", OK, "strict-dynamic"),
    ("script-src 'STRICT-DYNAMIC' 'nonce-abc' https:", OK, "keywords case-insensitive"),
    ("script-src 'strict-dynamic' https:", FAIL, "no nonce or hash: https: is not ignored"),
    ("script-src 'strict-dynamic' 'nonce-' https:", FAIL, "an empty nonce starts nothing"),
    ("script-src 'strict-dynamic' 'sha256-abc123' https:", FAIL, "Observatory passes: no digest"),
    ("default-src 'none'; script-src 'strict-dynamic'", OK, "Observatory: invalid; loads none"),
    ("script-src 'strict-dynamic' 'unsafe-inline'", OK, "allow all inline: no"),
    # script-src-elem and script-src-attr (the fallback list of each check)
    ("default-src 'self'; script-src 'self' 'unsafe-inline'", FAIL, "script-src overrides"),
    ("script-src 'self'; script-src-elem 'unsafe-inline'", FAIL, "element scripts"),
    ("script-src 'self'; script-src-attr 'unsafe-inline'", FAIL, "event-handler attributes"),
    ("script-src 'self'; script-src-attr 'unsafe-inline' 'nonce-a'", OK, "allow all inline: nonce"),
    ("script-src 'self'; script-src-elem https:", FAIL, "element scripts from anywhere"),
    ("script-src-elem 'self'; script-src https:; default-src 'self'", FAIL, "workers: https:"),
    ("script-src 'self'; script-src-attr https:", OK, "attributes load no URL"),
    ("script-src-elem 'self'", FAIL, "attributes and eval fall back to nothing"),
    ("script-src-elem 'self'; default-src 'self'", OK, "fallback list"),
    ("style-src 'unsafe-inline'; default-src 'self'", OK, "Observatory: style only"),
    ("script-src 'self'; script-src 'unsafe-inline'", OK, "2.2.1: the repeat is ignored"),
    ("script-src 'unsafe-inline'; script-src 'self'", FAIL, "2.2.1: the first one counts"),
    ("script-src unsafe-inline", OK, "unquoted: a host named unsafe-inline"),
]


@pytest.mark.parametrize(("value", "ok", "clause"), SCRIPT)
def test_script(value: str, ok: bool, clause: str) -> None:
    finding = csp.check_script(csp.parse_csp(value).directives)
    assert finding.ok is ok, f"{clause}: {finding.reason}"


# several policies are all enforced (2.2.2; "the effect of multiple policies"): a risk stays
# only when every policy leaves it open
SEVERAL: list[tuple[tuple[str, ...], bool, str]] = [
    (("script-src 'self'", "script-src *"), OK, "the intersection is 'self'"),
    (("script-src 'self' 'unsafe-inline'", "script-src 'self'"), OK, "the second blocks inline"),
    (("script-src * 'self'", "script-src 'self' 'unsafe-inline'"), OK, "no risk in both"),
    (("script-src 'unsafe-inline'", "script-src 'self' 'unsafe-inline'"), FAIL, "both inline"),
    (("script-src *", "script-src http://a.example"), FAIL, "http://a.example is in both"),
    (("default-src http:", "default-src https:"), FAIL, "scheme-part match: http: takes https"),
    (("img-src 'none'", "default-src 'unsafe-eval'"), FAIL, "no policy restricts eval"),
    (("default-src 'none'", "default-src 'none'"), OK, "Observatory: identical policies"),
]


@pytest.mark.parametrize(("values", "ok", "clause"), SEVERAL)
def test_script_several_policies(values: tuple[str, ...], ok: bool, clause: str) -> None:
    finding = csp.check_script(*(csp.parse_csp(value).directives for value in values))
    assert finding.ok is ok, f"{clause}: {finding.reason}"


def test_script_reason_names_what_browsers_ignore() -> None:
    glued = f"'sha256-{H256}''sha256-{H256}'"
    reason = csp.check_script(csp.parse_csp(f"script-src 'unsafe-inline' {glued}").directives)
    assert "'unsafe-inline'" in reason.reason
    assert glued in reason.reason
    several = csp.check_script({"script-src": ("*",)}, {"default-src": ("http:",)})
    assert "every one of the 2 policies" in several.reason


SOURCES = [
    ("'nonce-abc'", True, False),
    ("'nonce-'", False, False),
    (f"'sha256-{H256}'", False, True),
    (f"'sha256-{H256[:-1]}'", False, True),  # unpadded
    (f"'sha256-{H256[:-2]}'", False, False),  # 31 bytes
    (f"'sha512-{H512}'", False, True),
    (f"'sha512-{H256}'", False, False),
]


@pytest.mark.parametrize(("token", "nonce", "digest"), SOURCES)
def test_nonce_and_hash_grammar(token: str, nonce: bool, digest: bool) -> None:
    assert csp_sources.is_nonce(token) is nonce
    assert csp_sources.is_hash(token) is digest


def test_glued_hash_mutant_fails_only_for_the_glue() -> None:
    glued = f"script-src 'self' 'unsafe-inline' {GLUED_HASHES}"
    spaced = glued.replace("''", "' '")
    assert not csp.check_script(csp.parse_csp(glued).directives).ok
    assert csp.check_script(csp.parse_csp(spaced).directives).ok
