"""MkDocs run as a user runs it, in child processes of the harness's own interpreter
(``python -m mkdocs``) from the docs folder: ``build`` into a temporary folder, ``serve`` on a
free loopback port, ``gh-deploy`` into a throwaway bare repository. The user's repository is
never written to, and no remote but the throwaway one is ever pushed to."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from harness.errors import UnexpectedAnswer

# mkdocs' own words when a name of mkdocs.yml is not installed beside it
_UNAVAILABLE = (
    re.compile(r"Unrecognised theme name: '([^']+)'"),
    re.compile(r'The "([^"]+)" plugin is not installed'),
    re.compile(r"Failed to load extension '([^']+)'"),
    re.compile(r"No module named '([^']+)'"),
)
_WARNING = re.compile(r"^(?:\x1b\[\d+m)?(WARNING|ERROR|Error|Aborted)\b.*$", re.M)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class MkDocsUnavailable(UnexpectedAnswer):
    """The theme, a plugin or an extension mkdocs.yml names is not installed where the harness
    runs: nothing is proven about the docs either way (an ``error`` verdict)."""

    def __init__(self, what: str) -> None:
        super().__init__(
            "mkdocs", "the theme, plugins and extensions of mkdocs.yml installed", what
        )


@dataclass
class MkDocsRun:
    """A finished mkdocs command: its exit code (None: timed out) and output."""

    command: str
    returncode: int | None
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def problems(self) -> list[str]:
        """Its warnings and errors, one line each (else its last lines)."""
        if self.returncode is None:
            return [self.output]
        found = [match.group(0).strip() for match in _WARNING.finditer(self.output)]
        return found or [line for line in self.output.splitlines() if line.strip()][-3:]


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    # Material prints a notice about MkDocs 2 on every run; it is no finding of the docs
    return {**os.environ, "NO_MKDOCS_2_WARNING": "1", **(extra or {})}


def _unavailable(output: str) -> None:
    for pattern in _UNAVAILABLE:
        found = pattern.search(output)
        if found:
            line = next(line for line in output.splitlines() if found.group(0) in line)
            said = re.sub(r"^\s*(?:ERROR|WARNING)\s+-\s+", "", line).strip()
            raise MkDocsUnavailable(f"{said} (install it beside the harness)")


def mkdocs(
    args: list[str], cwd: Path, timeout_s: float, env: dict[str, str] | None = None
) -> MkDocsRun:
    """``python -m mkdocs ARGS`` in ``cwd``; :class:`MkDocsUnavailable` when mkdocs cannot
    load what the configuration names."""
    command = f"mkdocs {' '.join(args)}"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mkdocs", *args],
            cwd=cwd,
            env=env or environment(),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return MkDocsRun(command, None, f"{command} did not finish in {timeout_s:g} s")
    output = _ANSI.sub("", done.stdout + done.stderr)
    if done.returncode != 0:
        _unavailable(output)
    return MkDocsRun(command, done.returncode, output)


def build(config_file: Path, site: Path, timeout_s: float, strict: bool = True) -> MkDocsRun:
    """``mkdocs build [--strict]`` of ``config_file`` into ``site``."""
    flags = ["--strict"] if strict else []
    args = ["build", *flags, "-f", config_file.name, "-d", str(site)]
    return mkdocs(args, config_file.parent, timeout_s)


def free_port() -> int:
    """A loopback port free a moment ago (the stacks layer has its own; probes sit below it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """What ``mkdocs serve`` answered at the home page, or why it did not."""

    url: str
    status: int | None
    output: str = ""


def serve_home(config_file: Path, home_path: str, timeout_s: float) -> Served:
    """Start ``mkdocs serve`` on a free loopback port, ask its home page until it answers
    (or the server exits, or the time is up), and stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}{home_path}"
    args = ["serve", "-f", config_file.name, "-a", f"127.0.0.1:{port}", "--no-livereload"]
    status: int | None = None
    with tempfile.TemporaryFile() as log:  # a pipe nobody reads could fill and stall it
        server = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", *args],
            cwd=config_file.parent,
            env=environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # whatever it starts stops with it
        )
        try:
            deadline = time.monotonic() + timeout_s
            while status is None and server.poll() is None and time.monotonic() < deadline:
                try:
                    status = httpx.get(url, timeout=2, trust_env=False).status_code
                except httpx.HTTPError:
                    time.sleep(0.2)
        finally:
            _stop(server)
        log.seek(0)
        output = _ANSI.sub("", log.read().decode(errors="replace"))
    if status is None:
        _unavailable(output)
    return Served(url, status, output)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class Deployed:
    """``mkdocs gh-deploy`` into a throwaway bare repository: the run and, per branch the
    remote got, its files."""

    run: MkDocsRun
    branches: dict[str, list[str]] = field(default_factory=dict)


# a repository of its own: no user or system git configuration (hooks, credentials, remotes)
_GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_AUTHOR_NAME": "harness",
    "GIT_AUTHOR_EMAIL": "harness@localhost",
    "GIT_COMMITTER_NAME": "harness",
    "GIT_COMMITTER_EMAIL": "harness@localhost",
}


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=environment(_GIT_ENV),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def gh_deploy(docs: Path, config_name: str, workdir: Path, timeout_s: float) -> Deployed:
    """Copy the docs folder into a new git repository under ``workdir`` whose only remote,
    ``origin``, is a new bare repository beside it; run ``mkdocs gh-deploy`` there."""
    repo, remote = workdir / "docs", workdir / "remote.git"
    shutil.copytree(docs, repo, ignore=shutil.ignore_patterns(".git"), symlinks=False)
    _git("init", "-q", "-b", "main", cwd=repo)
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "--no-verify", "-m", "docs", cwd=repo)
    _git("init", "-q", "--bare", str(remote), cwd=workdir)
    _git("remote", "add", "origin", str(remote), cwd=repo)
    args = ["gh-deploy", "-f", config_name, "--remote-name", "origin", "-m", "site {sha}"]
    run = mkdocs(args, repo, timeout_s, env=environment(_GIT_ENV))
    refs = _git("for-each-ref", "--format=%(refname:short)", "refs/heads", cwd=remote).split()
    files = {ref: _git("ls-tree", "-r", "--name-only", ref, cwd=remote).split() for ref in refs}
    return Deployed(run, files)


class SiteBuilds:
    """One strict build per mkdocs.yml for a whole run, reused by every check that reads the
    site; where the strict build failed, a plain one gives the site that would be published."""

    def __init__(self, workdir: Path, timeout_s: float) -> None:
        self.workdir, self.timeout_s = workdir, timeout_s
        self._strict: dict[Path, tuple[MkDocsRun, Path]] = {}
        self._sites: dict[Path, tuple[MkDocsRun, Path]] = {}

    def _site_dir(self, kind: str) -> Path:
        return self.workdir / f"{kind}-{len(self._strict) + len(self._sites)}"

    def strict(self, config_file: Path) -> tuple[MkDocsRun, Path]:
        if config_file not in self._strict:
            site = self._site_dir("strict")
            self._strict[config_file] = (build(config_file, site, self.timeout_s), site)
        return self._strict[config_file]

    def site(self, config_file: Path) -> tuple[MkDocsRun, Path]:
        """The built site: the strict build's, else a build that lets warnings pass."""
        run, site = self.strict(config_file)
        if run.ok:
            return run, site
        if config_file not in self._sites:
            plain = self._site_dir("plain")
            self._sites[config_file] = (build(config_file, plain, self.timeout_s, False), plain)
        return self._sites[config_file]
