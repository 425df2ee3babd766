"""The house's layers (docs/architecture.md), checked over the source with ``ast``.

A module may import modules of its own layer and of lower layers only; packages on one layer
do not import each other; no project import hides inside a function (an import there is
how a cycle is usually dodged); and the module graph has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "geo",
    "scoring",
    "sharing",
    "eligibility",
    "blindspots",
    "routing",
    "webmap",
    "visitmap",
)

#: (module prefix, layer, name): the longest matching prefix decides. Higher layers may
#: import lower ones; a layer's packages with different names may not import each other.
LAYERS = [
    ("visitmap.errors", 0, "foundation"),
    ("visitmap.vocab", 0, "foundation"),
    ("visitmap.crs", 0, "foundation"),
    ("scoring", 1, "scoring"),
    ("routing", 1, "routing"),
    ("sharing", 1, "sharing"),
    ("eligibility", 1, "eligibility"),
    ("blindspots", 1, "blindspots"),
    ("geo", 2, "data"),
    ("visitmap.usecases", 3, "application"),
    ("webmap", 4, "web"),
    ("visitmap", 5, "command line"),
]


def layer_of(module: str) -> tuple[int, str]:
    """The layer and the package group of a project module."""
    best = max(
        (entry for entry in LAYERS if module == entry[0] or module.startswith(entry[0] + ".")),
        key=lambda entry: len(entry[0]),
    )
    return best[1], best[2]


def project_modules() -> dict[str, Path]:
    """Every module of the packages, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue  # Alembic's scripts run on their own
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, module: str):
    """(imported project module, line, inside a function) for each import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only: nothing is imported when the code runs
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, in_function
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*up, base] if base else up)
                yield base, child.lineno, in_function
                for alias in child.names:
                    yield f"{base}.{alias.name}", child.lineno, in_function
            yield from visit(child, inner)

    for name, line, in_function in visit(tree, False):
        if name.split(".")[0] in PACKAGES:
            yield name, line, in_function


MODULES = project_modules()


def resolve(name: str) -> str | None:
    """The project module an import names (``a.b.c`` may be module ``a.b`` + name ``c``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def edges():
    for module, path in sorted(MODULES.items()):
        for name, line, in_function in imports_of(path, module):
            target = resolve(name)
            # a module's own parent packages are run by Python anyway: not a dependency
            if target is not None and not (module + ".").startswith(target + "."):
                yield module, target, line, in_function, path


def test_every_package_of_the_tree_is_in_the_layer_table():
    """A new top-level package must be given a layer, or its imports go unchecked."""
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in ("tests", "notebooks", "bench", "data", "scripts")
    }
    assert packages == set(PACKAGES)
    assert len(MODULES) > 50


def test_no_lower_layer_imports_a_higher_one():
    wrong = set()
    for module, target, line, _, path in edges():
        (mine, my_group), (theirs, their_group) = layer_of(module), layer_of(target)
        if theirs > mine or (theirs == mine and my_group != their_group):
            rel = path.relative_to(ROOT)
            wrong.add(f"{rel}:{line}: {module} ({my_group}) imports {target} ({their_group})")
    assert not wrong, "\n".join(sorted(wrong))


#: The one layer that may import inside a function: the command line defers its imports so
#: that ``visitmap --help`` starts in 0.3 s rather than 3.3 s (Flask, folium, scikit-learn,
#: geopandas). Nothing imports it (the layer check), so a deferred import there cannot be
#: dodging a cycle.
DEFERRING_LAYER = "command line"


def test_no_project_import_hides_inside_a_function():
    hidden = {
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for module, target, line, in_function, path in edges()
        if in_function and layer_of(module)[1] != DEFERRING_LAYER
    }
    assert not hidden, "\n".join(sorted(hidden))


def test_nothing_imports_the_command_line_but_itself():
    importers = {
        module
        for module, target, *_ in edges()
        if layer_of(target)[1] == DEFERRING_LAYER and layer_of(module)[1] != DEFERRING_LAYER
    }
    assert not importers


def test_the_module_graph_has_no_cycle():
    graph: dict[str, set[str]] = {}
    for module, target, *_ in edges():
        graph.setdefault(module, set()).add(target)
    state: dict[str, int] = {}
    cycle: list[str] = []

    def walk(node, stack):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle.extend(stack[stack.index(nxt) :] + [nxt])
                return True
            if state.get(nxt) is None and walk(nxt, [*stack, nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if state.get(start) is None and walk(start, [start]):
            break
    assert not cycle, " -> ".join(cycle)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    from geo.db import make_engine\n", True),
        ("from geo.db import make_engine\n", False),
    ],
)
def test_the_check_sees_an_import_inside_a_function(tmp_path, source, expected):
    path = tmp_path / "mod.py"
    path.write_text(source)
    found = list(imports_of(path, "scoring.mod"))
    assert found and all(in_function is expected for _, _, in_function in found)


#: A module longer than this says in its opening docstring why it is one module.
LONG_MODULE_LINES = 400


def test_a_long_module_says_why_it_is_one():
    unexplained = []
    for path in sorted(MODULES.values()):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") <= LONG_MODULE_LINES:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if "\nLength: " not in "\n" + docstring:
            unexplained.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert not unexplained, "say why in a 'Length:' paragraph, or split:\n" + "\n".join(unexplained)
