"""The numbered migrations of each engine: storage/migrations/<engine>/NNN_name.sql.

Both engines use the same version numbers. A file still at the old place (storage/migrations/
NNN_name.sql, written in the subset both engines accept) counts for an engine that has no file
of that number in its own folder.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

ENGINES = ("sqlite", "postgres")


def _numbered(folder: Traversable) -> dict[int, str]:
    found: dict[int, str] = {}
    if not folder.is_dir():
        return found
    for entry in folder.iterdir():
        if entry.is_file() and entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            if version in found:
                raise RuntimeError(f"two migrations numbered {version} in {folder}")
            found[version] = entry.read_text(encoding="utf-8")
    return found


def migrations(engine: str) -> list[tuple[int, str]]:
    """(version, SQL) in order: the engine's own files, and shared ones it has no file for."""
    root = resources.files("storage") / "migrations"
    found = _numbered(root)
    found.update(_numbered(root / engine))
    return sorted(found.items())
