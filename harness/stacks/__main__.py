"""``python -m harness.stacks build|list|wheelhouse|nginx-conf``: the local images of the
container stacks (``make images``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.errors import HarnessError

PROG = "harness"


def _parser() -> argparse.ArgumentParser:
    from harness.stacks.images import IMAGES

    parser = argparse.ArgumentParser(
        prog="python -m harness.stacks",
        description="Local images for the container stacks (no registry needed).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser("build", help="build the missing local images (make images)")
    build.add_argument("--force", action="store_true", help="rebuild even when the tag exists")
    build.add_argument(
        "--only",
        action="append",
        choices=list(IMAGES),
        metavar="ROLE",
        help=f"build this role and what it needs (repeatable): {', '.join(IMAGES)}",
    )
    commands.add_parser("list", help="each role, the image it resolves to and whether it exists")
    wheelhouse = commands.add_parser(
        "wheelhouse", help="write the backend's wheelhouse (for docker-compose build)"
    )
    wheelhouse.add_argument(
        "dest", type=Path, nargs="?", default=Path("reference_app/deploy/wheelhouse")
    )
    commands.add_parser("nginx-conf", help="print the frontend image's nginx.conf")
    return parser


def _list() -> None:
    from harness.stacks.docker_env import docker_client
    from harness.stacks.images import IMAGES, image_exists, resolve_image

    client = docker_client()
    try:
        rows = []
        for role in IMAGES:
            image = resolve_image(role, client=client)
            rows.append((role, image, "present" if image_exists(client, image) else "missing"))
    finally:
        client.close()
    width = max(len(image) for _, image, _ in rows)
    for role, image, state in rows:
        sys.stdout.write(f"{role:<11}{image:<{width + 2}}{state}\n")


def _wheelhouse(dest: Path) -> None:
    from harness.stacks.contexts import make_wheelhouse, probe_python
    from harness.stacks.docker_env import docker_client
    from harness.stacks.images import resolve_image

    client = docker_client()
    try:
        target = probe_python(client, resolve_image("python", client=client))
    finally:
        client.close()
    make_wheelhouse(dest, target)
    sys.stdout.write(f"wrote {dest} for Python {target.version} ({target.machine})\n")


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            from harness.stacks.images import build_images

            build_images(args.only, force=args.force)
        elif args.command == "list":
            _list()
        elif args.command == "wheelhouse":
            _wheelhouse(args.dest)
        else:
            from harness.stacks.contexts import image_nginx_conf

            sys.stdout.write(image_nginx_conf())
    except HarnessError as exc:
        # a failed build shows its last lines first, then the one-line reason
        message = str(exc)
        first, _, rest = message.partition("\n")
        if rest:
            sys.stderr.write(rest + "\n")
        sys.stderr.write(f"{PROG}: error: {first}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(run())
