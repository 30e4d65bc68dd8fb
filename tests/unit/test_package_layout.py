"""The package's rooms keep to the import rules their `__init__.py` docstrings state.

Each room (`ledger/<room>/__init__.py`) says what it "May import:" and what it must "Never"
import, naming modules as code spans (`ledger.documents`, `ledger.running.evidence`). These
tests read those docstrings and every module's imports (with `ast`, nothing is imported), so
a docstring that stops telling the truth fails here, whichever of the two changed.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ledger"
ROOMS = ("documents", "editing", "running", "reading", "directives", "html", "markdown")
# The modules at the top of the package state no rules of their own; these are theirs.
TOP_LEVEL_MAY_IMPORT = {
    "ledger": (),
    "ledger.errors": (),
    "ledger.config": ("ledger.errors", "ledger.documents.states"),
    "ledger.render": ("ledger.errors", "ledger.markdown"),
    "ledger.workspace": ("ledger.errors", "ledger.config", "ledger.markdown", "ledger.documents"),
    "ledger.entry": ("ledger.cli", "ledger.running.early_start"),
    "ledger.__main__": ("ledger.entry",),
}
# The command line, and what starts it, are the only modules that may know Click.
CLI_SIDE = ("ledger.cli", "ledger.entry", "ledger.__main__")
_CODE_NAME = re.compile(r"`(ledger(?:\.\w+)*)`")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@cache
def _tree(name: str) -> ast.Module:
    return ast.parse(_modules()[name].read_text(encoding="utf-8"))


def _imports(name: str, at_import_time_only: bool = False) -> set[str]:
    """Every module `name` imports (lazy imports inside functions too, unless
    `at_import_time_only`); `from ledger.x import y` counts `ledger.x.y` when that is a module."""
    tree = _tree(name)
    nodes = tree.body if at_import_time_only else ast.walk(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}: relative import (the package imports absolutely)"
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in _modules())
    return found


def _within(target: str, names) -> bool:
    return any(target == name or target.startswith(name + ".") for name in names)


def _room_of(name: str) -> str:
    """`ledger.running.do` -> `ledger.running`; a top-level module is its own room."""
    parts = name.split(".")
    return ".".join(parts[:2])


@cache
def _rules(room: str) -> tuple[frozenset[str], frozenset[str]]:
    """(may import, never) as the room's docstring names them."""
    doc = ast.get_docstring(_tree(f"ledger.{room}")) or ""
    assert "May import:" in doc, f"ledger/{room}/__init__.py does not say what it may import"
    rules = doc.split("May import:", 1)[1]
    allowed_text = re.split(r"Never|Nothing else", rules, maxsplit=1)[0]
    never_text = rules.split("Never", 1)[1] if "Never" in rules else ""
    return frozenset(_CODE_NAME.findall(allowed_text)), frozenset(_CODE_NAME.findall(never_text))


def _ledger_imports(name: str) -> set[str]:
    return {target for target in _imports(name) if target == "ledger" or target.startswith("ledger.")}


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_imports_only_what_its_docstring_allows(room):
    allowed, never = _rules(room)
    assert allowed, f"ledger/{room}/__init__.py names nothing it may import"
    everything = "ledger" in allowed  # "May import: everything in `ledger`"
    broken = []
    for name in _modules():
        if _room_of(name) != f"ledger.{room}":
            continue
        for target in sorted(_ledger_imports(name)):
            if _room_of(target) == f"ledger.{room}" or target in ("ledger", "ledger.__version__"):
                continue
            if _within(target, never) or not (everything or _within(target, allowed)):
                broken.append(f"{name} imports {target}")
    assert not broken, f"ledger/{room}/__init__.py does not allow:\n" + "\n".join(broken)


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_docstring_names_only_modules_that_exist(room):
    allowed, never = _rules(room)
    modules = _modules()
    missing = sorted(name for name in allowed | never if name != "ledger" and name not in modules)
    assert not missing, f"ledger/{room}/__init__.py names modules that do not exist: {missing}"


@pytest.mark.parametrize("room", ROOMS)
def test_room_init_files_import_nothing(room):
    # `ledger --help` and `ledger status` stay fast only while importing a room costs nothing.
    tree = _tree(f"ledger.{room}")
    assert not [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


@pytest.mark.parametrize("name", sorted(TOP_LEVEL_MAY_IMPORT))
def test_top_level_modules_import_only_their_own_layer(name):
    allowed = TOP_LEVEL_MAY_IMPORT[name]
    broken = [t for t in sorted(_ledger_imports(name)) if t != name and t != "ledger" and not _within(t, allowed)]
    assert not broken, f"{name} imports {broken}"


def test_every_top_level_module_has_a_rule():
    rooms = {f"ledger.{room}" for room in ROOMS} | {"ledger.cli"}
    unruled = sorted(name for name in _modules() if _room_of(name) not in rooms and name not in TOP_LEVEL_MAY_IMPORT)
    assert not unruled, f"modules outside every room and without a rule here: {unruled}"


def test_no_core_module_imports_click_or_the_cli():
    offenders = [
        f"{name} imports {target}"
        for name in _modules()
        if not _within(name, CLI_SIDE)
        for target in sorted(_imports(name))
        if _within(target, ("click", "ledger.cli"))
    ]
    assert not offenders, "\n".join(offenders)


def _bound_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [(alias.asname or alias.name).split(".")[0] for alias in node.names]
    return [alias.asname or alias.name for alias in node.names]


def test_cli_modules_import_only_what_they_call():
    """A command module's imports are each used: a thin layer that parses, calls the core
    and prints has no import it does not call (an unused one is a leftover or a side effect)."""
    unused = []
    for name in _modules():
        if not _within(name, ("ledger.cli",)):
            continue
        tree = _tree(name)
        used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        exported = set()
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
                exported = {elt.value for elt in node.value.elts}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                unused.extend(f"{name}: {bound}" for bound in _bound_names(node) if bound not in used | exported)
    assert not unused, "imported and never used:\n" + "\n".join(unused)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_import_cycles_at_import_time():
    modules = _modules()
    graph = {name: {t for t in _imports(name, at_import_time_only=True) if t in modules and t != name} for name in modules}
    assert _cycles(graph) == []


def test_rooms_import_each_other_in_cycles_only_where_a_docstring_allows_one_module():
    """A room may reach back into another only through a module its docstring names
    (`ledger.running.evidence` from editing, `ledger.reading.profile` from running): with
    those narrow allowances left out, the rooms form no cycle."""
    graph: dict[str, set[str]] = {}
    for name in _modules():
        room = _room_of(name)
        narrow: set[str] = set()
        if room.removeprefix("ledger.") in ROOMS:
            allowed, _ = _rules(room.removeprefix("ledger."))
            narrow = {a for a in allowed if a.count(".") >= 2 and _room_of(a) not in allowed}
        for target in _ledger_imports(name):
            if _room_of(target) != room and target != "ledger" and not _within(target, narrow):
                graph.setdefault(room, set()).add(_room_of(target))
    assert _cycles(graph) == []
