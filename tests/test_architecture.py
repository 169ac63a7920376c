"""The house's arrows, read from the source with `ast` (ARCHITECTURE.md "The rooms").

Imports under `if TYPE_CHECKING:` count too: a cycle only the type checker sees is still a
circle a reader has to untangle, and it becomes a real one the day someone drops the guard.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.paths import ROOT

PACKAGES = ("bot", "handlers", "storage")
MESSENGERS = ("telegram", "zalo")
MESSENGER_AND_IO = (*MESSENGERS, "aiohttp", "aiosqlite", "sqlite3", "psycopg", "psycopg_pool")
DRIVERS = ("aiosqlite", "sqlite3", "psycopg", "psycopg_pool")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


@cache
def _nodes(path: Path) -> tuple[ast.AST, ...]:
    """Every node of the module's syntax tree (parsed once for all the tests here)."""
    return tuple(ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))))


def _imported(path: Path, module: str) -> Iterator[str]:
    """Every module name `path` imports, relative imports resolved, `from a import b` as `a.b`
    when `a.b` is a module of ours (else as `a`)."""
    is_package = path.name == "__init__.py"
    for node in _nodes(path):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in MODULES else base


def _ours(name: str) -> str | None:
    """The module of ours that `name` is (or is inside), if any."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


@cache
def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets = {_ours(name) for name in _imported(path, module)}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _names_imported_by(module: str) -> set[str]:
    return set(_imported(MODULES[module], module))


def test_the_reader_finds_the_known_arrows() -> None:
    graph = _graph()
    assert "bot.services.kernel.step" in graph["bot.services.kernel.dispatch"]
    assert "storage.engine" in graph["bot.app"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_among_bot_handlers_storage() -> None:
    cycles = _cycles(_graph())
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("layer", ["bot.services", "bot.domain", "bot.outgoing"])
def test_services_and_domain_name_no_messenger_and_no_driver(layer: str) -> None:
    offenders = {
        f"{module} imports {name}"
        for module in MODULES
        if module == layer or module.startswith(f"{layer}.")
        for name in _names_imported_by(module)
        if name.split(".")[0] in MESSENGER_AND_IO
    }
    assert not offenders, sorted(offenders)


MESSENGER_WORD = re.compile("|".join(MESSENGERS), re.IGNORECASE)


def test_no_service_names_a_messenger() -> None:
    """ARCHITECTURE.md: the services describe what is meant; only a channel knows which
    messenger shows it. A messenger named anywhere in a service (a string, a name, a comment)
    is a channel's decision taken in the wrong room."""
    offenders = {
        f"{module}:{number}: {line.strip()[:60]}"
        for module, path in MODULES.items()
        if module.startswith("bot.services.") or module in ("bot.services", MESSAGE_VOCABULARY)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if MESSENGER_WORD.search(line)
    }
    assert not offenders, sorted(offenders)


def test_the_messenger_check_finds_a_name() -> None:
    assert MESSENGER_WORD.search('channel == "Telegram"')
    assert MESSENGER_WORD.search("# a ZALO follow-up")
    assert not MESSENGER_WORD.search("the channel used last")


def test_the_channel_port_imports_no_messenger() -> None:
    offenders = {
        name for name in _names_imported_by(CHANNEL_PORT) if name.split(".")[0] in MESSENGER_AND_IO
    }
    assert not offenders and not MESSENGER_WORD.search(MODULES[CHANNEL_PORT].read_text())


def test_domain_imports_neither_services_nor_storage() -> None:
    offenders = {
        f"{module} imports {name}"
        for module in MODULES
        if module.startswith("bot.domain")
        for name in _names_imported_by(module)
        if name.split(".")[0] == "storage" or f"{name}.".startswith("bot.services.")
    }
    assert not offenders, sorted(offenders)


def _feature_package(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 3 and parts[:2] == ["bot", "services"] else None


def test_the_feature_packages_depend_on_each_other_one_way() -> None:
    """Two packages under bot/services that import each other (even through different modules)
    are one feature in two folders: the kernel and outbox below, features on top of them."""
    packages: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        source = _feature_package(module)
        if source is not None:
            used = {_feature_package(t) for t in targets} - {source, None}
            packages.setdefault(source, set()).update(p for p in used if p is not None)
    assert {"kernel", "outbox", "returns", "health", "oversight"} <= packages.keys()
    cycles = _cycles(packages)
    assert cycles == [], "packages importing each other: " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def test_repositories_and_the_seam_name_no_driver() -> None:
    """Repositories see only the Tx protocol; the protocol module names no engine."""
    offenders = {
        f"{module} imports {name}"
        for module in MODULES
        if module.split(".")[0] == "storage"
        and module not in ("storage.db", "storage.engine")
        and not module.startswith(("storage.engine.sqlite", "storage.engine.postgres"))
        for name in _names_imported_by(module)
        if name.split(".")[0] in DRIVERS
        or name.startswith(("storage.engine.sqlite", "storage.engine.postgres"))
    }
    assert offenders == set()


MESSAGE_VOCABULARY = "bot.outgoing"  # what a message means; the outbox stores it as JSON


def test_storage_leans_only_on_the_domain_and_the_message_vocabulary() -> None:
    offenders = {
        f"{module} imports {name}"
        for module in MODULES
        if module.split(".")[0] == "storage"
        for name in _names_imported_by(module)
        if name.split(".")[0] in ("bot", "handlers")
        and not f"{name}.".startswith("bot.domain.")
        and name != MESSAGE_VOCABULARY
    }
    assert not offenders, sorted(offenders)


WIRING = ("bot.app", "bot.__main__", "bot.sandbox", "bot.channels", "bot.inbound", "handlers")
CHANNEL_PORT = "bot.channels.port"  # the messenger-free protocol every part may name


def test_only_the_wiring_imports_handlers_and_channels() -> None:
    """ARCHITECTURE.md: nothing imports handlers or a channel except the composition root (and
    the CLI that starts it), the sandbox, and the channels and handlers themselves."""
    offenders = {
        f"{module} imports {name}"
        for module in MODULES
        if not any(module == w or module.startswith(f"{w}.") for w in WIRING)
        for name in _names_imported_by(module)
        if name.split(".")[0] == "handlers"
        or (f"{name}.".startswith("bot.channels.") and not f"{name}.".startswith(CHANNEL_PORT))
    }
    assert not offenders, sorted(offenders)


SQL = re.compile(r"\s*(SELECT .* FROM|INSERT (OR \w+ )?INTO|UPDATE \w+ SET|DELETE FROM|CREATE "
                 r"(TABLE|INDEX)|PRAGMA)\b", re.DOTALL)  # fmt: skip


def test_sql_is_written_only_in_storage() -> None:
    """ARCHITECTURE.md: SQL only under storage/ (a statement as a string constant elsewhere)."""
    offenders = {
        f"{module}:{node.lineno} {node.value[:40]!r}"
        for module, path in MODULES.items()
        if module.split(".")[0] != "storage"
        for node in _nodes(path)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value)
    }
    assert not offenders, sorted(offenders)
