"""The module child: calls, reads, refusals and crashes, and one line for each way it fails."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.probes.module_runner import decode, encode
from harness.probes.modulecall import ModuleError, ModuleProcess

MODULE = """
import os
def echo(value):
    print("printed lines do not break the protocol")
    return {"value": value, "raw": b"\\x00\\xff"}
def refuse(value):
    raise ValueError(f"no {value}")
def crash(value):
    return {}[value]
def leave():
    os._exit(3)
def hang():
    import time
    time.sleep(30)
class Settings:
    def __init__(self):
        self.hosts = ["a"]
        self.calls = 5
settings = Settings()
"""


@pytest.fixture
def child(tmp_path: Path) -> Iterator[ModuleProcess]:
    (tmp_path / "mod.py").write_text(MODULE)
    with ModuleProcess(tmp_path, sys.executable, timeout_s=2) as process:
        yield process


def test_bytes_cross_as_base64_both_ways() -> None:
    value = {"a": [b"\x00\x01", "text"], "n": 1}
    assert decode(encode(value)) == value


def test_returned_refused_and_crashed(child: ModuleProcess) -> None:
    echoed = child.call("mod", "echo", b"\x01")
    assert echoed.returned
    assert echoed.value == {"value": b"\x01", "raw": b"\x00\xff"}
    refused = child.call("mod", "refuse", "x")
    assert refused.refused
    assert not refused.crashed
    assert refused.error == "no x"
    crashed = child.call("mod", "crash", "k")
    assert crashed.crashed
    assert not crashed.refused
    assert crashed.type == "KeyError"


def test_reads_attributes_of_a_value(child: ModuleProcess) -> None:
    assert child.read("mod", "settings", ["hosts", "calls", "absent"]) == {
        "hosts": ["a"],
        "calls": 5,
    }


def test_missing_names_and_modules_are_one_line(child: ModuleProcess) -> None:
    assert not child.has("mod", "nothing")
    with pytest.raises(ModuleError, match=r"^mod has no nothing$"):
        child.call("mod", "nothing")
    with pytest.raises(
        ModuleError, match=r"^app\.core\.x cannot be imported: No module named 'app'$"
    ):
        child.call("app.core.x", "f")


def test_a_child_that_dies_or_hangs_is_reported_and_replaced(child: ModuleProcess) -> None:
    with pytest.raises(ModuleError, match=r"running mod\.leave exited 3: printed|exited 3"):
        child.call("mod", "leave")
    with pytest.raises(ModuleError, match=r"^mod\.hang did not return within 2 s$"):
        child.call("mod", "hang")
    assert child.call("mod", "refuse", "again").refused  # a fresh child answers


def test_a_missing_interpreter_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModuleError, match="cannot run the interpreter /no/python"):
        ModuleProcess(tmp_path, "/no/python").start()


def test_values_cross_as_json_and_secrets_never_do() -> None:
    from dataclasses import dataclass

    from pydantic import BaseModel, SecretStr

    @dataclass
    class Info:
        name: str
        size: int

    class Config(BaseModel):
        hosts: tuple[str, ...]
        key: SecretStr

    assert encode(Info("a", 1)) == {"name": "a", "size": 1}
    assert encode(Config(hosts=("h",), key=SecretStr("s3cret"))) == {
        "hosts": ["h"],
        "key": "**********",
    }
    assert encode(b"\x00") == {"$bytes": "AA=="}
