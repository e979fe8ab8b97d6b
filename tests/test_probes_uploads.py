"""Upload probes, generated cases and the stored-XSS judgement, without a server."""

from __future__ import annotations

import puremagic
import pytest
from hypothesis import strategies as st

from harness.probes import uploads
from harness.probes.generated import falsify
from harness.probes.stored_xss import BENIGN, executable_constructs, rich_texts

ALLOWED = [".txt", ".pdf", ".png", ".jpg", ".jpeg", ".gif"]


@pytest.mark.parametrize("ext", [".png", ".jpg", ".gif", ".pdf"])
def test_samples_are_what_their_extension_says(ext: str) -> None:
    content, media_type = uploads.SAMPLES[ext]
    assert puremagic.from_string(content, mime=True) == media_type


def test_refused_cases_disagree_with_their_names() -> None:
    cases = uploads.disallowed_uploads(ALLOWED)
    labels = {case.label for case in cases}
    assert "HTML with a script named as an image" in labels
    assert "an HTML page" in labels
    assert any(case.filename.endswith(".pdf") and case.content == uploads.ELF for case in cases)
    polyglot = uploads.polyglot(ALLOWED)
    assert polyglot is not None
    assert polyglot.content.startswith(b"GIF89a")
    assert uploads.polyglot([".txt"]) is None


def test_multipart_carries_the_name_byte_for_byte() -> None:
    body, content_type = uploads.multipart(uploads.named('a\x00b"c\x01.txt', ".txt"))
    assert content_type.startswith("multipart/form-data; boundary=harness-")
    assert b'filename="a\x00b%22c\x01.txt"' in body
    assert uploads.TEXT in body


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ("report.txt", None),
        ("harness-escape_1.txt", None),
        ("../x.txt", "path separator"),
        ("a\\b.txt", "path separator"),
        ("..x.txt", "'..'"),
        ("a\x00.txt", "control character"),
        ("a\r\nb.txt", "control character"),
        (".htaccess", "starts with a dot"),
        ("", "empty"),
    ],
)
def test_name_problems(stored: str, problem: str | None) -> None:
    problems = uploads.name_problems(stored)
    if problem is None:
        assert not problems
    else:
        assert any(problem in p for p in problems), problems


def test_generated_names_end_in_an_allowed_extension_with_matching_content() -> None:
    seen = []

    def record(upload: uploads.Upload) -> None:
        seen.append(upload)
        ext = next(e for e in ALLOWED if upload.filename.endswith(e))
        assert upload.content == uploads.SAMPLES[ext][0]

    run = falsify(uploads.hostile_filenames(ALLOWED), record, seed=7, max_examples=40)
    assert run.falsified is None
    assert len(seen) == run.examples >= 20
    assert any("\x00" in u.filename or "../" in u.filename for u in seen)


def test_falsify_reports_seed_and_minimal_example() -> None:
    def small(value: int) -> None:
        assert value < 100, f"{value} is too big"

    run = falsify(st.integers(0, 10_000), small, seed=11, max_examples=50, explicit=[5])
    assert run.falsified is not None
    assert run.falsified.example == 100
    again = falsify(st.integers(0, 10_000), small, seed=11, max_examples=50, explicit=[5])
    assert again.falsified is not None
    assert again.falsified.example == 100
    shown = run.to_json()
    assert shown["seed"] == 11
    assert shown["replay"] == "--param hypothesis_seed=11"


def test_falsify_lets_other_errors_through() -> None:
    def broken(value: int) -> None:
        raise LookupError("cannot judge")

    with pytest.raises(LookupError):
        falsify(st.integers(), broken, seed=1, max_examples=5)


def test_every_payload_is_executable_and_escaped_text_is_not() -> None:
    assert all(executable_constructs(text) for text in rich_texts())
    assert executable_constructs(BENIGN) == []
    assert executable_constructs("&lt;img src=x onerror=alert(1)&gt;") == []
    # browsers drop tabs and newlines inside a URL's scheme: still a script URL
    assert executable_constructs('<a href=" java\tscript:x">a</a>') == ["script URL in href of <a>"]
    assert executable_constructs('<a href="https://example.org/javascript:">a</a>') == []
