"""The package's import graph has no circle (STYLE.md: imports only go downward).

Every module under src/cartoonbrain is read with ``ast`` (nothing is imported), and every
import it makes, at module level or inside a function, is an edge, except those under
``if TYPE_CHECKING:``. Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first,
so it is also an edge to each package above ``a.b.c`` that is not already a package of the
importing module (those are being imported already when it runs).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import cartoonbrain

SRC = Path(cartoonbrain.__file__).resolve().parent
PACKAGE = "cartoonbrain"

#: circles through modules owned elsewhere, known and being taken apart: test_imports
#: xfails (not strictly) while one of these is in the graph, and fails on any other
KNOWN_ELSEWHERE: list[set[str]] = []


def module_names() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    names = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(SRC).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, skipping the bodies of ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _targets(
    node: ast.Import | ast.ImportFrom, name: str, is_package: bool, modules: set[str]
) -> list[str]:
    """The dotted names an import statement in module ``name`` asks for: ``from pkg
    import sub`` asks for the module ``pkg.sub`` when there is one, else for ``pkg``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        base = node.module or ""
    else:
        parts = name.split(".") if is_package else name.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}
        if not is_package:
            own.discard(name)
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node, name, is_package, set(modules)):
                if target not in modules:
                    continue
                parts = target.split(".")
                above = {".".join(parts[:i]) for i in range(1, len(parts))}
                graph[name] |= {target} | ({m for m in above if m in modules} - own)
        graph[name].discard(name)
    return graph


def knots(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected parts with more than one module (Tarjan's algorithm): every
    module of a knot can reach every other, so each lies on an import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = set()
            while True:
                member = stack.pop()
                part.add(member)
                if member == node:
                    break
            if len(part) > 1:
                found.append(part)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def shortest_circle(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """The shortest circle ``[start, ..., start]`` (breadth-first), or None."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        ahead = []
        for node in frontier:
            for nxt in sorted(graph[node]):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if nxt not in came_from:
                    came_from[nxt] = node
                    ahead.append(nxt)
        frontier = ahead
    return None


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """For each knot, the shortest circle through each of its modules (without repeats)."""
    found: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for knot in knots(graph):
        inside = {name: graph[name] & knot for name in knot}
        for name in sorted(knot):
            circle = shortest_circle(inside, name)
            assert circle is not None
            turn = circle[:-1].index(min(circle[:-1]))
            key = tuple(circle[turn:-1] + circle[:turn])
            if key not in seen:
                seen.add(key)
                found.append([*key, key[0]])
    return found


def test_the_import_graph_has_no_circle():
    graph = import_graph()
    found = circles(graph)
    report = "\n".join(" -> ".join(circle) for circle in found)
    elsewhere = [c for c in found if any(set(c) >= known for known in KNOWN_ELSEWHERE)]
    if found and len(elsewhere) == len(found):
        pytest.xfail(f"import circles through modules owned elsewhere:\n{report}")
    assert not found, f"import circles:\n{report}"


# ------------------------------------------------------------------ the checker itself
def test_the_checker_finds_a_deferred_import_and_ignores_type_checking(tmp_path):
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "from .b import x\n"
        "if TYPE_CHECKING:\n    from .c import y\n"
        "def f():\n    from .d.e import z\n"
    )
    found = [t for node in _imports(tree) for t in _targets(node, "p.a", False, set())]
    assert "p.b" in found and "p.d.e" in found and "p.c" not in found


def test_relative_imports_resolve_from_a_package_and_from_a_module():
    node = ast.parse("from ..io import atomic_write").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _targets(node, "p.train.checkpoint", False, set()) == ["p.io"]
    assert _targets(node, "p.train", True, set()) == ["p.io"]
    node = ast.parse("from . import post, VERSION").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _targets(node, "p.blog", True, {"p.blog.post"}) == ["p.blog.post", "p.blog"]


def test_every_circle_is_found_and_none_in_a_tree():
    graph = {"a": {"b"}, "b": {"c", "a"}, "c": {"a"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert [set(k) for k in knots(graph)] in (
        [{"a", "b", "c"}, {"d", "e"}],
        [{"d", "e"}, {"a", "b", "c"}],
    )
    assert sorted(circles(graph)) == [["a", "b", "a"], ["a", "b", "c", "a"], ["d", "e", "d"]]
    assert circles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_sees_the_packages_above_an_import_but_not_its_own(tmp_path, monkeypatch):
    for file, text in {
        "__init__.py": "from .a import f\n",
        "a.py": "def f():\n    from .sub.deep import g\n",
        "sub/__init__.py": "",
        "sub/deep.py": "from ..b import h\nfrom . import other\n",
        "sub/other.py": "",
        "b.py": "h = 1\n",
    }.items():
        (tmp_path / file).parent.mkdir(exist_ok=True)
        (tmp_path / file).write_text(text)
    monkeypatch.setattr(__import__(__name__), "SRC", tmp_path)
    graph = import_graph()
    assert graph[PACKAGE] == {f"{PACKAGE}.a"}
    assert graph[f"{PACKAGE}.a"] == {f"{PACKAGE}.sub.deep", f"{PACKAGE}.sub"}
    assert graph[f"{PACKAGE}.sub.deep"] == {f"{PACKAGE}.b", f"{PACKAGE}.sub.other"}
    assert circles(graph) == []


# ------------------------------------------------------------------ the levels
ARCHITECTURE = SRC.parents[1] / "docs" / "architecture.md"


def level_table(text: str) -> tuple[list[tuple[str, list[str]]], set[tuple[str, str]]]:
    """docs/architecture.md's table of levels, lowest first: ``[(level, [prefix, ...])]``
    from the rows under "## The levels", and the allowed upward imports ``{(a, b)}`` from
    the rows of the table under "### Exceptions" (none may be needed)."""
    levels: list[tuple[str, list[str]]] = []
    exceptions: set[tuple[str, str]] = set()
    section = None
    for line in text.splitlines():
        if line.startswith("#"):
            section = line.strip("# ").lower()
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 2 or set(cells[0]) <= set("-: "):
            continue
        names = [n.strip("/").replace("/", ".") for n in re.findall(r"`([^`]+)`", cells[1])]
        if section == "the levels" and names:
            levels.append((cells[0], names))
        elif section == "exceptions":
            pair = [
                n.strip("/").replace("/", ".")
                for c in cells[:2]
                for n in re.findall(r"`([^`]+)`", c)
            ]
            if len(pair) == 2:
                exceptions.add((pair[0], pair[1]))
    return levels, exceptions


def level_of(module: str, levels: list[tuple[str, list[str]]]) -> int | None:
    """The index of the level whose longest prefix names ``module`` (None: no row does)."""
    rel = module.removeprefix(PACKAGE).removeprefix(".") or "__init__"
    best, found = -1, None
    for i, (_, prefixes) in enumerate(levels):
        for prefix in prefixes:
            if (rel == prefix or rel.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), i
    return found


def upward_imports(
    graph: dict[str, set[str]], levels: list[tuple[str, list[str]]], allowed: set[tuple[str, str]]
) -> list[str]:
    problems = []
    for name in sorted(graph):
        here = level_of(name, levels)
        if here is None:
            problems.append(f"{name} is in no level of docs/architecture.md's table")
            continue
        for target in sorted(graph[name]):
            there = level_of(target, levels)
            short = (name.removeprefix(PACKAGE + "."), target.removeprefix(PACKAGE + "."))
            if there is not None and there > here and short not in allowed:
                problems.append(
                    f"{name} ({levels[here][0]}) imports {target} ({levels[there][0]}), "
                    "a level above"
                )
    return problems


def test_every_import_goes_to_its_own_level_or_below():
    levels, allowed = level_table(ARCHITECTURE.read_text(encoding="utf-8"))
    assert len(levels) >= 5, "docs/architecture.md has no table of levels"
    problems = upward_imports(import_graph(), levels, allowed)
    assert not problems, "\n".join(problems)


def test_the_level_check_fails_on_an_upward_import():
    levels = [("maths", ["losses", "layers"]), ("network", ["network"])]
    graph = {
        f"{PACKAGE}.layers.dense": {f"{PACKAGE}.losses"},
        f"{PACKAGE}.losses": {f"{PACKAGE}.network.network"},  # deferred, upward
        f"{PACKAGE}.network.network": {f"{PACKAGE}.layers.dense"},
    }
    problems = upward_imports(graph, levels, set())
    assert len(problems) == 1 and "cartoonbrain.losses (maths) imports" in problems[0]
    assert upward_imports(graph, levels, {("losses", "network.network")}) == []


def test_the_table_is_read_with_its_exceptions_and_longest_prefixes():
    text = (
        "## The levels\n\n| level | modules |\n|---|---|\n| post | `blog/` |\n"
        "| front ends | `cli/`, `blog/inspect` |\n\n### Exceptions\n\n| from | to | why |\n"
        "|---|---|---|\n| `blog.fused` | `cli` | because |\n"
    )
    levels, allowed = level_table(text)
    assert levels == [("post", ["blog"]), ("front ends", ["cli", "blog.inspect"])]
    assert allowed == {("blog.fused", "cli")}
    assert level_of(f"{PACKAGE}.blog.inspect", levels) == 1
    assert level_of(f"{PACKAGE}.blog.post", levels) == 0
    assert level_of(f"{PACKAGE}.io", levels) is None


# ------------------------------------------------------------------ the page stays true
def _backticked(text: str) -> set[str]:
    return set(re.findall(r"`([^`\s]+)`", text))


def test_architecture_names_every_module_and_no_module_that_is_not_there():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = _backticked(text)
    files = [p for p in SRC.rglob("*.py") if p.name != "__init__.py"]
    missing = [
        str(p.relative_to(SRC))
        for p in files
        if p.name not in named and str(p.relative_to(SRC)) not in named
    ]
    assert not missing, f"docs/architecture.md does not name {missing}"
    packages = {p.parent.name + "/" for p in SRC.rglob("__init__.py") if p.parent != SRC}
    assert not packages - named, f"docs/architecture.md does not name {packages - named}"
    basenames = {p.name for p in SRC.rglob("*.py")} | {
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
    }
    ghosts = sorted(n for n in named if n.endswith(".py") and n not in basenames)
    ghosts = [n for n in ghosts if not n.startswith(("tests/", "benchmarks/", "dev.py"))]
    assert not ghosts, f"docs/architecture.md names modules that do not exist: {ghosts}"


def test_the_registries_the_page_lists_exist_and_are_filled():
    import importlib

    text = ARCHITECTURE.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+(?:\.\w+)*)\.([A-Z_]+)` \|", text, flags=re.M)
    assert len(rows) >= 5
    for module, table in rows:
        registry = getattr(importlib.import_module(f"{PACKAGE}.{module}"), table)
        assert isinstance(registry, (dict, tuple)) and registry, f"{module}.{table} is empty"
