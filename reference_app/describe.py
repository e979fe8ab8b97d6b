"""Commands that tell tools about the app without importing it: ``python -m reference_app
mutants|paths|nginx-conf|project-mutant``. The harness runs these (it starts the app, never
imports it)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
COMMANDS = ("mutants", "paths", "nginx-conf", "project-mutant")


class DescribeError(Exception):
    """A wrong argument; printed as one line with exit code 2."""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the commands on the ``add_subparsers`` object of the app's parser."""
    commands.add_parser("mutants", help="print the registered mutants as JSON")
    commands.add_parser("paths", help="print where the app's sources and deploy files are (JSON)")
    nginx = commands.add_parser(
        "nginx-conf",
        help="write the frontend's nginx.conf: the image's (--image) or a local run's",
    )
    nginx.add_argument("--image", action="store_true", help="the frontend image's config")
    nginx.add_argument("--mutant", help="with this mutant's change to the config")
    nginx.add_argument("--output", type=Path, help="file to write (default: stdout)")
    nginx.add_argument("--listen-port", type=int, help="local run: the HTTP port")
    nginx.add_argument("--backend-url", help="local run: the app's URL")
    nginx.add_argument("--prefix", type=Path, help="local run: nginx's prefix (temp dirs, logs)")
    nginx.add_argument("--tls-port", type=int, help="local run: also serve HTTPS on this port")
    nginx.add_argument("--tls-dir", type=Path, help="local run: folder with tls.crt and tls.key")
    project = commands.add_parser(
        "project-mutant", help="write a copy of the reference repository with one defect"
    )
    project.add_argument("name", help="the defect (reference_app/project_mutants.py)")
    project.add_argument("directory", type=Path, help="where to write the tree (must not exist)")


def mutants() -> dict[str, dict[str, Any]]:
    """Every mutant: the requirement ids it breaks and where its defect lives."""
    from reference_app.mutants import MUTANTS

    return {
        name: {
            "breaks": list(mutant.breaks),
            "description": mutant.description,
            "frontend": mutant.frontend is not None,
            "image": dict(mutant.image),
        }
        for name, mutant in sorted(MUTANTS.items())
    }


def paths() -> dict[str, str]:
    """The installed app's folders: images are built from these files."""
    from reference_app.frontend import STATIC_ROOT, TEMPLATE

    return {
        "package": str(PACKAGE_DIR),
        "deploy": str(PACKAGE_DIR / "deploy"),
        "frontend": str(TEMPLATE.parent),
        "static": str(STATIC_ROOT),
        "project": str(PACKAGE_DIR / "project"),  # the reference repository tree
    }


def nginx_conf(args: argparse.Namespace) -> str:
    from reference_app.frontend import render_image_config, render_nginx_config
    from reference_app.mutants import UnknownMutantError, get_mutant

    if args.mutant:
        try:
            get_mutant(args.mutant)
        except UnknownMutantError as exc:
            raise DescribeError(str(exc)) from None
    if args.image:
        return render_image_config(mutant=args.mutant)
    if args.listen_port is None or args.backend_url is None or args.prefix is None:
        raise DescribeError("nginx-conf needs --image, or --listen-port, --backend-url, --prefix")
    if (args.tls_port is None) != (args.tls_dir is None):
        raise DescribeError("nginx-conf needs --tls-port and --tls-dir together")
    return render_nginx_config(
        listen_port=args.listen_port,
        backend_url=args.backend_url,
        prefix=args.prefix,
        mutant=args.mutant,
        tls_port=args.tls_port,
        tls_dir=args.tls_dir,
    )


def project_mutant(name: str, directory: Path) -> str:
    from reference_app.project_mutants import UnknownProjectMutantError, write_project_mutant

    try:
        mutant = write_project_mutant(name, directory)
    except (UnknownProjectMutantError, FileExistsError) as exc:
        raise DescribeError(str(exc).strip("'\"")) from None
    return f"{directory}: {mutant.description}; breaks {', '.join(mutant.breaks)}\n"


def run(args: argparse.Namespace) -> None:
    """Run one of ``COMMANDS``; DescribeError for a wrong argument."""
    if args.command == "mutants":
        text = json.dumps(mutants(), indent=2) + "\n"
    elif args.command == "paths":
        text = json.dumps(paths(), indent=2) + "\n"
    elif args.command == "project-mutant":
        text = project_mutant(args.name, args.directory)
    else:
        text = nginx_conf(args)
        if args.output is not None:
            args.output.write_text(text, encoding="utf-8")
            return
    sys.stdout.write(text)
