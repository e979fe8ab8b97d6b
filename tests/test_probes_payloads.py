"""Loading the injection corpora, turning records into requests, tallying verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.probes import payloads
from harness.probes.payloads import CorpusError, Payload, Tally


def _record(**fields: object) -> Payload:
    data: dict[str, object] = {
        "id": "x-1", "class": "sqli", "location": "query", "method": "GET",
        "uri": "/get?a=1", "headers": {"Host": "localhost"}, "body": "", "expect": "block",
    }  # fmt: skip
    data.update(fields)
    return payloads._record(data, "test")


def test_the_shared_corpora_load_with_their_documented_counts() -> None:
    block, allow = payloads.must_block(), payloads.must_allow()
    assert len(block) == 562
    assert {r.expect for r in block} == {"block"}
    assert {r.tier for r in block} == {"PL1"}
    assert len(allow) == 584
    assert {r.expect for r in allow} == {"allow"}
    assert sum(r.edge_case for r in allow) == 22
    by_class = {cls: sum(r.cls == cls for r in block) for cls in payloads.CLASSES}
    assert by_class == {"sqli": 320, "xss": 186, "traversal": 56}
    pl2 = payloads.must_block_pl2()
    assert len(pl2) == 529
    assert {r.tier for r in pl2} == {"PL2"}
    assert payloads.GATED_TIER == payloads.TIERS[0] == "PL1"


def test_corpora_ship_with_their_licences() -> None:
    directory = payloads.corpus_dir()
    assert directory.parts[-3:] == ("fixtures", "corpora", "injection")
    names = {path.name for path in directory.iterdir()}
    assert {"NOTICE", "README.md", *payloads.MUST_BLOCK, *payloads.MUST_ALLOW} <= names
    assert "Apache License" in (directory / "NOTICE").read_text(encoding="utf-8")


def test_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"not found: the harness ships it in fixtures/corpora"):
        payloads.must_block(tmp_path)


def test_malformed_lines_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "crs-must-block.jsonl").write_text('{"id": "a"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"crs-must-block.jsonl:1: record lacks"):
        payloads.must_block(tmp_path)
    (tmp_path / "crs-must-block.jsonl").write_text("{nope\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r":1: not JSON"):
        payloads.must_block(tmp_path)


def test_records_keep_raw_uri_and_utf8_body(tmp_path: Path) -> None:
    line = json.dumps({
        "id": "c", "class": "xss", "location": "cookie", "method": "POST",
        "uri": "/a/../b?q=<x>", "headers": {"Cookie": "k=\uff1c"}, "body": "é", "expect": "block",
    })  # fmt: skip
    (tmp_path / "f.jsonl").write_text(line + "\n\n", encoding="utf-8")
    (record,) = payloads.load(["f.jsonl"], tmp_path)
    assert record.path == "/a/../b"
    assert record.query == "q=<x>"
    assert record.body_bytes == "é".encode()
    assert record.headers == (("Cookie", "k=\uff1c"),)


def test_wire_request_swaps_the_path_except_for_path_records() -> None:
    query = payloads.wire_request(_record(uri="/get/x?a=%27"), "/api/v1/formulas")
    assert query.target == "/api/v1/formulas?a=%27"
    assert query.headers == ()
    body = payloads.wire_request(_record(uri="/post", location="body-form"), "/api")
    assert body.target == "/api"
    path = payloads.wire_request(_record(uri="/get/../../etc/passwd", location="path"), "/api")
    assert path.target == "/get/../../etc/passwd"


def test_rejection_means_400_or_403() -> None:
    assert payloads.is_rejected(400)
    assert payloads.is_rejected(403)
    for status in (200, 404, 405, 413, 422, 429, 500):
        assert not payloads.is_rejected(status)


def test_spread_keeps_each_address_under_the_rate_limit() -> None:
    records = [_record(id=f"r{i}") for i in range(250)]
    spread = payloads.spread(records, 3)
    per_address: dict[str, int] = {}
    for address, _ in spread:
        per_address[address] = per_address.get(address, 0) + 1
    assert max(per_address.values()) <= payloads.REQUESTS_PER_ADDRESS < 100
    assert sorted(per_address) == ["127.77.3.1", "127.77.3.2", "127.77.3.3", "127.77.3.4"]
    assert [r for _, r in spread] == records
    with pytest.raises(ValueError, match="count 1-254"):
        payloads.loopback_addresses(3, 300)


def test_tally_rates_per_class_and_location_with_edge_cases_aside() -> None:
    tally = Tally()
    tally.add(_record(id="a"), 400)
    tally.add(_record(id="b"), 422)
    tally.add(_record(id="c", location="path"), 403)
    tally.add(_record(id="d", **{"class": "xss"}), 200)
    tally.add(_record(id="e", expect="allow", edge_case=True), 400)
    tally.add(_record(id="f"), None, "timeout")
    assert tally.rate("sqli") == pytest.approx(2 / 3)
    assert tally.rate("xss") == 0.0
    assert tally.counted() == 4
    assert tally.rate() == 0.5
    assert tally.table()["sqli/query"] == "1/2 (50.0%)"
    assert tally.wrong == ["b (422)", "d (200)"]
    assert tally.edge_rejected == ["e"]
    assert tally.errors == {"f": "timeout"}
    assert Tally().rate() == 0.0


def test_must_allow_requests_answered_by_no_route_are_not_counted_as_served() -> None:
    tally = Tally()
    for index, status in enumerate((404, 405, 501)):
        tally.add(_record(id=f"missing{index}", expect="allow"), status)
    tally.add(_record(id="served", expect="allow"), 200)
    tally.add(_record(id="blocked", expect="allow"), 403)
    tally.add(_record(id="attack"), 404)  # a must-block 404 is still a miss, not "no route"
    assert tally.unreached == ["missing0 (404)", "missing1 (405)", "missing2 (501)"]
    assert tally.counted() == 3
    assert tally.wrong == ["blocked (403)", "attack (404)"]


def test_a_control_copies_the_shape_of_a_record_with_a_benign_body() -> None:
    form = _record(
        location="body",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body="q=1' OR '1'='1",
    )
    shape = payloads.shape_of(form)
    assert shape == ("POST", "application/x-www-form-urlencoded")
    control = payloads.control_request(shape, "/api/items/")
    assert (control.method, control.target, control.body) == ("POST", "/api/items/", b"q=hello")
    multipart = ("POST", 'multipart/form-data; boundary="xyz"')
    body = payloads.control_request(multipart, "/p").body
    assert body.startswith(b"--xyz\r\n")
    assert body.endswith(b"--xyz--\r\n")
    assert payloads.control_request(("GET", ""), "/p").body == b""
    assert payloads.shape_of(_record(location="path", uri="/../etc/passwd")) is None


@pytest.mark.parametrize("control", [401, 403, 404, 405])
def test_records_of_a_shape_the_route_refuses_anyway_are_not_counted(control: int) -> None:
    tally = Tally()
    tally.add(_record(expect="block"), 403, control=control)
    assert tally.counted() == 0
    assert tally.refused == [f"x-1 (403; benign: {control})"]


def test_a_served_control_lets_the_record_count() -> None:
    tally = Tally()
    tally.add(_record(expect="block"), 403, control=200)
    assert tally.counted() == 1
    assert tally.rate() == 1.0
