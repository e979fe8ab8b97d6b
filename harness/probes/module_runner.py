"""The program of the module child (harness.probes.modulecall): run as ``python -c`` with
this file's text, in the deployment's interpreter, never imported into it. The harness
imports only its codecs. Python 3.10+ and the standard library: the child has the
deployment's packages, not the harness's.

Requests and replies are JSON lines; the real stdout carries the replies only, so what the
user's code prints goes to stderr and cannot break the protocol.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import json
import sys
from types import ModuleType
from typing import Any

_ABSENT = object()
_SHOWN_CHARS = 200


def _structured(value: Any) -> Any:
    """Dataclasses, named tuples and pydantic models as mappings; anything else as is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if hasattr(value, "_asdict"):
        return value._asdict()
    if hasattr(value, "model_dump") and not isinstance(value, type):
        return {name: getattr(value, name) for name in type(value).model_fields}
    return value


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON: bytes as ``{"$bytes": base64}``, structured values and plain
    objects as mappings, secrets masked, the rest as ``repr``."""
    value = _structured(value)
    if isinstance(value, bytes | bytearray):
        shown: Any = {"$bytes": base64.b64encode(bytes(value)).decode()}
    elif value is None or isinstance(value, bool | int | float | str):
        shown = value
    elif depth > 8:
        shown = repr(value)[:_SHOWN_CHARS]
    elif isinstance(value, dict):
        shown = {str(k): encode(v, depth + 1) for k, v in value.items()}
    elif isinstance(value, list | tuple | set | frozenset):
        shown = [encode(v, depth + 1) for v in value]
    elif hasattr(value, "get_secret_value"):  # never a secret in a reply, hence in evidence
        shown = "**********"
    elif hasattr(value, "__dict__") and not callable(value):
        items = vars(value).items()
        shown = {k: encode(v, depth + 1) for k, v in items if not k.startswith("_")}
    else:
        shown = repr(value)[:_SHOWN_CHARS]
    return shown


def decode(value: Any) -> Any:
    """JSON back to values: ``{"$bytes": ...}`` as bytes."""
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return base64.b64decode(value["$bytes"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _failure(kind: str, exc: BaseException) -> dict[str, Any]:
    words = " ".join(str(exc).split()) or type(exc).__name__
    mro = [cls.__name__ for cls in type(exc).__mro__]
    return {"ok": False, "kind": kind, "type": type(exc).__name__, "mro": mro, "error": words[:500]}


def answer(request: dict[str, Any], modules: dict[str, ModuleType]) -> dict[str, Any]:
    """One request: import the module (once), then read or call the name."""
    name = request["module"]
    try:
        if name not in modules:
            modules[name] = importlib.import_module(name)
    except BaseException as exc:  # the user's import may raise anything, SystemExit included
        return _failure("import", exc)
    found: Any = getattr(modules[name], request["name"], _ABSENT)
    if found is _ABSENT:
        return {"ok": False, "kind": "missing", "type": "", "error": request["name"]}
    try:
        if "args" in request:
            found = found(*decode(request["args"]), **decode(request.get("kwargs", {})))
        if request.get("attrs"):
            found = {a: getattr(found, a) for a in request["attrs"] if hasattr(found, a)}
        return {"ok": True, "value": encode(found)}
    except BaseException as exc:
        return _failure("raised", exc)


def serve() -> None:
    replies = sys.stdout
    sys.stdout = sys.stderr
    modules: dict[str, ModuleType] = {}
    for line in sys.stdin:
        replies.write(json.dumps(answer(json.loads(line), modules)) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve()
