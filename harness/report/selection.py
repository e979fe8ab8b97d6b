"""Which requirements a run left out: a requirement with no check that ran is ``deselected``,
not ``uncovered``, when its checks were deselected (``--requirement``, ``-k``, ``-m``,
``--deselect``) or sit in files the run ignored (``--ignore``; an ``--ignore-glob`` pattern is
not resolved, so what only it left out stays ``uncovered``)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

# a quoted requirement id anywhere in a suite's source: in a marker, or in the table a
# parametrized check builds its markers from
_ID = re.compile(r"""["']([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)["']""")


def marked_ids(items: Iterable[Any]) -> set[str]:
    """The requirement ids the ``requirement`` markers of these pytest items name."""
    return {str(rid) for item in items for m in item.iter_markers("requirement") for rid in m.args}


def ids_in_files(paths: Iterable[Path], known: Collection[str]) -> set[str]:
    """The ids of ``known`` requirements that these files or folders' Python files name in
    quotes; an id built at run time is not seen (its requirement stays uncovered)."""
    found: set[str] = set()
    for path in paths:
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file.suffix == ".py" and file.is_file():
                text = file.read_text(encoding="utf-8", errors="replace")
                found.update(rid for rid in _ID.findall(text) if rid in known)
    return found


def ignored_paths(option: Any, base: Path) -> list[Path]:
    """The paths pytest's ``--ignore`` options name (relative ones from ``base``)."""
    return [base / p for p in (getattr(option, "ignore", None) or [])]
