"""Call functions of the deployment's own Python modules in a child process.

The harness never imports the user's code: a validator that hangs, exits, prints or needs
packages the harness lacks must not take the gate with it. The child is ``python -c RUNNER``
(the deployment's interpreter, a parameter) with the backend directory first on ``sys.path``.
They speak JSON lines: ``{"module", "name", "args"?, "kwargs"?, "attrs"?}`` in (no ``args``:
read the attribute), ``{"ok": true, "value"}`` or ``{"ok": false, "kind", "type", "error"}``
out; bytes travel as ``{"$bytes": base64}``. Whatever goes wrong on the way is one line
(:class:`ModuleError`): the module cannot be imported, a name is missing, the child died.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from harness.probes.module_runner import decode, encode

# the child's program, run as ``python -c``: sys.path then starts at the backend directory
# (its cwd), where ``python FILE`` would put harness/probes first and shadow the stdlib
RUNNER = (Path(__file__).parent / "module_runner.py").read_text(encoding="utf-8")

DEFAULT_TIMEOUT_S = 20.0


class ModuleError(Exception):
    """The call could not be made: the message is one line that says why."""


@dataclass(frozen=True)
class Outcome:
    """What one call did: returned ``value``, or raised (``error``, its ``type`` and bases)."""

    returned: bool
    value: Any = None
    error: str = ""
    type: str = ""
    mro: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        """A validator's "no": it raised a ``ValueError`` (or a subclass) or returned False."""
        return (not self.returned and "ValueError" in self.mro) or (
            self.returned and self.value is False
        )

    @property
    def crashed(self) -> bool:
        """It raised something other than a validation error (a bug, not a refusal)."""
        return not self.returned and "ValueError" not in self.mro

    def describe(self) -> str:
        """The outcome in words, for messages (the exception's type stays in the evidence)."""
        if self.returned:
            return f"returned {self.value!r}"[:300]
        how = "refused" if self.refused else "crashed"
        return f"{how}: {self.error}"[:300]


def module_file(module: str) -> str:
    """Where ``module`` lives relative to the backend directory (``app/core/x.py``)."""
    return module.replace(".", "/") + ".py"


class ModuleProcess:
    """One child process that imports modules from ``root`` and answers calls, in order.

    ``python`` is the interpreter (the deployment's own virtualenv, or the harness's); ``env``
    is added to the harness's environment (``ENVIRONMENT``, ``REFERENCE_APP_MUTANT``, ...)."""

    def __init__(
        self,
        root: Path,
        python: str,
        env: Mapping[str, str] | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.root = root
        self.python = python
        self.env = dict(env or {})
        self.timeout_s = timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._pending = b""

    def __enter__(self) -> ModuleProcess:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        if not self.root.is_dir():
            raise ModuleError(f"{self.root}: no such directory")
        path = os.pathsep.join(filter(None, (str(self.root), os.environ.get("PYTHONPATH"))))
        # no __pycache__ left in the user's tree
        env = os.environ | {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": path} | self.env
        # open for the child's whole life: closed in close()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                [self.python, "-c", RUNNER],
                cwd=self.root,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                bufsize=0,
            )
        except OSError as exc:
            raise ModuleError(f"cannot run the interpreter {self.python}: {exc.strerror}") from None

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def call(self, module: str, name: str, *args: Any, **kwargs: Any) -> Outcome:
        """``module.name(*args, **kwargs)`` in the child: what it returned or raised."""
        return self._outcome(
            self._ask(
                {"module": module, "name": name, "args": encode(args), "kwargs": encode(kwargs)}
            ),
            module,
            name,
        )

    def read(self, module: str, name: str, attrs: Sequence[str] = ()) -> Any:
        """The value of ``module.name`` (only ``attrs`` of it, those it has, when given)."""
        outcome = self._outcome(
            self._ask({"module": module, "name": name, "attrs": list(attrs)}), module, name
        )
        if not outcome.returned:
            raise ModuleError(f"reading {module}.{name} failed: {outcome.error}")
        return outcome.value

    def has(self, module: str, name: str) -> bool:
        """Whether ``module`` (importable, else :class:`ModuleError`) defines ``name``."""
        reply = self._ask({"module": module, "name": name, "attrs": ["__name__"]})
        if reply.get("kind") == "import":
            raise ModuleError(_import_line(module, reply))
        return reply.get("kind") != "missing"

    def _outcome(self, reply: dict[str, Any], module: str, name: str) -> Outcome:
        kind = reply.get("kind")
        if kind == "import":
            raise ModuleError(_import_line(module, reply))
        if kind == "missing":
            raise ModuleError(f"{module} has no {name}")
        if reply.get("ok"):
            return Outcome(True, decode(reply.get("value")))
        return Outcome(
            False,
            error=str(reply.get("error", "")),
            type=str(reply.get("type", "")),
            mro=tuple(reply.get("mro", ())),
        )

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._proc is None:  # not started yet, or restarted after the child died
            self.start()
        proc = self._proc
        assert proc is not None
        assert proc.stdin is not None
        what = f"{request['module']}.{request['name']}"
        try:
            proc.stdin.write(json.dumps(request).encode() + b"\n")
        except (BrokenPipeError, OSError):
            raise ModuleError(self._died(what)) from None
        line = self._line(proc, what)
        try:
            reply: dict[str, Any] = json.loads(line)
        except ValueError:
            raise ModuleError(f"{what}: the child answered {line[:120]!r}") from None
        return reply

    def _line(self, proc: subprocess.Popen[bytes], what: str) -> bytes:
        assert proc.stdout is not None
        deadline = time.monotonic() + self.timeout_s
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([proc.stdout], [], [], max(left, 0))
            if not ready:
                proc.kill()
                self.close()
                raise ModuleError(f"{what} did not return within {self.timeout_s:g} s")
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                raise ModuleError(self._died(what))
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def _died(self, what: str) -> str:
        proc = self._proc
        code = proc.wait(timeout=5) if proc is not None else None
        tail = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            tail = f": {last_words(self._stderr.read().decode(errors='replace'))}"
        self.close()
        return f"the child process running {what} exited {code}{tail}"


# "AttributeError: " before a child's last words: the words say it, and a check's message
# that names a Python exception reads as a crash of the harness (docs/docs/checks.md)
_EXCEPTION_PREFIX = re.compile(r"^(?:[\w.]+\.)?\w+(?:Error|Exception|Exit): ")


def last_words(stderr: str) -> str:
    """The last line a child wrote on stderr, without its exception's name."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return _EXCEPTION_PREFIX.sub("", lines[-1])[:300] if lines else "no output"


def _import_line(module: str, reply: Mapping[str, Any]) -> str:
    return f"{module} cannot be imported: {reply.get('error', '')}"
