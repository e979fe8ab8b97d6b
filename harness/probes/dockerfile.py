"""Dockerfiles read by stage: what each stage stands on, what it copies from earlier stages,
what it installs and the command the final image runs. No image is built: the judgements are
structural (a final stage that copies artefacts out of a build stage and carries no toolchain
is the smaller image a multi-stage build is for)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from harness.probes.repo_findings import RepoFinding, finding
from harness.probes.repofiles import BaseImage, base_images

_COPY_FROM = re.compile(r"--from=(\S+)")
# a package manager installing something: the words after it are the packages
_INSTALL = re.compile(
    r"\b(?:apt-get|apt|apk|yum|dnf|microdnf)\s+(?:-\S+\s+)*(?:install|add)\b([^;&|]*)"
)
_TOOLCHAIN_PACKAGE = re.compile(
    r"^(?:gcc|g\+\+|clang|cc|make|cmake|build-essential|build-base|musl-dev|libc6?-dev"
    r"|[\w.+-]+-dev|[\w.+-]+-devel|python3?-dev|rustc|cargo|golang)(?:[=<>].*)?$"
)
_NODE_PACKAGE = re.compile(r"^(?:nodejs|nodejs-current|npm|yarn|node)(?:[=<>].*)?$")
# the full images of these languages ship compilers; -slim, -alpine and distroless do not
_FULL_IMAGES = {"python", "node", "ruby", "golang", "rust", "gcc", "buildpack-deps", "openjdk"}
_LEAN_TAG = re.compile(r"slim|alpine|distroless|minimal|chiseled", re.I)
PRODUCTION_SERVERS = ("gunicorn", "uvicorn", "hypercorn", "granian", "daphne", "uwsgi", "waitress")
_DEV_FLAGS = re.compile(r"^--(?:reload|reload-dir|reload-include|debug)(?:=|$)")
_DEV_COMMANDS = (("flask", "run"), ("manage.py", "runserver"), ("fastapi", "dev"))
_DEBUG_ENV = re.compile(r"^(?:DEBUG|FLASK_DEBUG|DJANGO_DEBUG|APP_DEBUG|UVICORN_RELOAD)$", re.I)
_TRUE = {"1", "true", "yes", "on"}


@dataclass
class Stage:
    """One stage: its ``FROM``, its index and name, and its instructions in order."""

    base: BaseImage
    index: int
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]

    def copied_from(self) -> list[str]:
        """The sources of its ``COPY --from=`` (stage names, indexes or images)."""
        return [m.group(1) for args in self.all("COPY") for m in [_COPY_FROM.search(args)] if m]

    def installed(self) -> list[str]:
        """Packages its ``RUN`` lines install with the system's package manager."""
        found: list[str] = []
        for args in self.all("RUN"):
            for match in _INSTALL.finditer(args):
                found += [w for w in match.group(1).split() if not w.startswith("-")]
        return found


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: continuation lines joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole, pending = pending + line, ""
        keyword, _, args = whole.partition(" ")
        found.append((keyword.upper(), args.strip()))
    if pending:
        keyword, _, args = pending.partition(" ")
        found.append((keyword.upper(), args.strip()))
    return found


def stages(dockerfile: str) -> list[Stage]:
    """The stages in order, with the base images :func:`base_images` resolves."""
    bases = iter(base_images(dockerfile))
    result: list[Stage] = []
    for keyword, args in instructions(dockerfile):
        if keyword == "FROM":
            base = next(bases, None)
            if base is not None:
                result.append(Stage(base, len(result)))
        elif result:
            result[-1].instructions.append((keyword, args))
    return result


def _earlier(stage_list: list[Stage], reference: str, before: int) -> Stage | None:
    """The earlier stage ``reference`` (a name or an index) names, if any."""
    for stage in stage_list[:before]:
        if reference == stage.base.stage or reference == str(stage.index):
            return stage
    return None


def _base_is_stage(stage_list: list[Stage], final: Stage) -> Stage | None:
    if final.base.tag != "latest":
        return None
    return _earlier(stage_list, final.base.image, final.index)


def _full_image(base: BaseImage) -> bool:
    return base.image in _FULL_IMAGES and not _LEAN_TAG.search(base.tag)


def _multistage_problems(stage_list: list[Stage]) -> tuple[list[str], Stage | None]:
    """Problems shared by both images, and the final stage."""
    if not stage_list:
        return ["no FROM line"], None
    final = stage_list[-1]
    if len(stage_list) < 2:
        return [f"a single stage (FROM {final.base.image}:{final.base.tag})"], final
    problems = []
    parent = _base_is_stage(stage_list, final)
    if parent is not None:
        problems.append(
            f"the final stage is built FROM the stage {final.base.image}, so it keeps all of it"
        )
    sources = [s for s in final.copied_from() if _earlier(stage_list, s, final.index)]
    if not sources:
        problems.append("the final stage copies nothing from an earlier stage (COPY --from=)")
    return problems, final


def check_backend_multistage(dockerfile: str, rid: str = "DEP-BACKEND-MULTISTAGE") -> RepoFinding:
    """At least two stages; the final one copies from an earlier one, stands on a lean base
    and installs no compiler or headers."""
    stage_list = stages(dockerfile)
    problems, final = _multistage_problems(stage_list)
    evidence = [f"stage {s.index}: FROM {s.base.image}:{s.base.tag}" for s in stage_list]
    if final is not None and len(stage_list) > 1:
        if _full_image(final.base):
            problems.append(
                f"the final stage stands on {final.base.image}:{final.base.tag}, a full image "
                "that ships compilers (use a -slim, -alpine or distroless tag)"
            )
        tools = [p for p in final.installed() if _TOOLCHAIN_PACKAGE.match(p)]
        if tools:
            problems.append(f"the final stage installs build tools: {', '.join(tools)}")
        evidence.append(f"final stage copies from {', '.join(final.copied_from()) or 'nothing'}")
    return finding(rid, problems, evidence)


def check_frontend_multistage(dockerfile: str, rid: str = "DEP-FRONTEND-MULTISTAGE") -> RepoFinding:
    """A Node.js build stage, an nginx final stage that copies from it and has no Node.js."""
    stage_list = stages(dockerfile)
    problems, final = _multistage_problems(stage_list)
    evidence = [f"stage {s.index}: FROM {s.base.image}:{s.base.tag}" for s in stage_list]
    if final is None or len(stage_list) < 2:
        return finding(rid, problems, evidence)
    nodes = [s for s in stage_list[:-1] if s.base.image == "node"]
    if not nodes:
        problems.append("no earlier stage is FROM node:<version> to build the assets")
    if "nginx" not in final.base.image:
        problems.append(f"the final stage stands on {final.base.image}, not an nginx image")
    names = {ref for s in nodes for ref in (s.base.stage, str(s.index)) if ref}
    if nodes and not names & set(final.copied_from()):
        problems.append("the final stage copies nothing from the Node.js stage")
    node_in_final = [p for p in final.installed() if _NODE_PACKAGE.match(p)]
    if final.base.image == "node" or node_in_final:
        problems.append(
            "the final stage carries Node.js"
            + (f" (installs {', '.join(node_in_final)})" if node_in_final else "")
        )
    return finding(rid, problems, evidence)


def command_words(args: str) -> list[str]:
    """A CMD or ENTRYPOINT as words: the JSON exec form, else the shell form split."""
    if args.startswith("["):
        try:
            loaded = json.loads(args)
        except json.JSONDecodeError:
            loaded = None
        if isinstance(loaded, list):
            return [str(word) for word in loaded]
    try:
        return shlex.split(args)
    except ValueError:
        return args.split()


def _run_command(stage_list: list[Stage]) -> list[str]:
    """ENTRYPOINT then CMD of the final stage, inherited through stages built on stages."""
    stage: Stage | None = stage_list[-1]
    entry: list[str] | None = None
    cmd: list[str] | None = None
    while stage is not None and (entry is None or cmd is None):
        if entry is None and stage.all("ENTRYPOINT"):
            entry = command_words(stage.all("ENTRYPOINT")[-1])
        if cmd is None and stage.all("CMD"):
            cmd = command_words(stage.all("CMD")[-1])
        stage = _base_is_stage(stage_list, stage)
    return (entry or []) + (cmd or [])


def _env_pairs(args: str) -> list[tuple[str, str]]:
    words = command_words(args)
    if len(words) >= 2 and "=" not in words[0]:  # the legacy form: ENV NAME value
        return [(words[0], " ".join(words[1:]))]
    return [(k, v) for k, _, v in (w.partition("=") for w in words)]


def check_production_server(dockerfile: str, rid: str = "DEP-BACKEND-PRODUCTION") -> RepoFinding:
    """The final image runs a production server, without reload or debug switches."""
    stage_list = stages(dockerfile)
    if not stage_list:
        return finding(rid, ["no FROM line"], [])
    words = _run_command(stage_list)
    if not words:
        return finding(rid, ["the final stage has no CMD or ENTRYPOINT"], [])
    evidence = [f"runs: {' '.join(words)}"]
    problems = []
    names = [w.rsplit("/", 1)[-1] for w in words]
    servers = [n for n in names if n.split(":")[0] in PRODUCTION_SERVERS]
    if not servers:
        problems.append(
            f"{' '.join(words)!r} names no production server ({', '.join(PRODUCTION_SERVERS)})"
        )
    problems += [f"runs with {w}" for w in words if _DEV_FLAGS.match(w)]
    for program, sub in _DEV_COMMANDS:
        if program in names and sub in names:
            problems.append(f"runs the development server ({program} {sub})")
    for args in stage_list[-1].all("ENV"):
        for name, value in _env_pairs(args):
            if _DEBUG_ENV.match(name) and value.strip("'\"").lower() in _TRUE:
                problems.append(f"sets {name}={value}")
    return finding(rid, problems, evidence)
