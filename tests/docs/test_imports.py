"""lib/pv has no import cycle, and its imports inside functions are the ones lib/pv/README lists.

The graph is built from the source (ast), counting every import statement,
also those inside functions, and an import of pv.a.b as one of pv.a too (its
__init__ runs first).
"""

import ast
import os
import re

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(TOP, "lib")
README = os.path.join(LIB, "pv", "README")
LISTED_LINE = re.compile(r"^    ([\w/]+\.py) +([\w.]+(?: [\w.]+)*)$")


def modules(lib):
    """{dotted name: path} of every module under lib/pv."""
    found = {}
    for root, _, files in os.walk(os.path.join(lib, "pv")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                parts = os.path.relpath(path, lib)[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts.pop()
                found[".".join(parts)] = path
    return found


def imported(name, node, known):
    """The dotted names one import statement in module ``name`` loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = name.split(".")
        if not known[name].endswith("__init__.py"):
            package.pop()
        package = package[:len(package) - node.level + 1]
        base = ".".join(package + ([node.module] if node.module else []))
    found = []
    for alias in node.names:
        full = base + "." + alias.name
        found.append(full if full in known else base)
    return found


def imports_of(name, known, nested_only=False):
    """[(dotted name, line)] of the imports in a module, optionally only those not at the top."""
    with open(known[name]) as f:
        tree = ast.parse(f.read(), known[name])
    top = {id(node) for node in tree.body}
    return [(target, node.lineno) for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            and not (nested_only and id(node) in top)
            for target in imported(name, node, known)]


def graph(known):
    """{module: set of pv modules it imports}, packages' __init__ included."""
    edges = {}
    for name in known:
        targets = set()
        for target, _ in imports_of(name, known):
            parts = target.split(".")
            targets.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        edges[name] = {t for t in targets if t in known and t != name}
    return edges


def find_cycle(edges):
    """One cycle as [a, b, ..., a], or None (depth-first search, three colours)."""
    colour = dict.fromkeys(edges, 0)       # 0 new, 1 on the path, 2 done

    def visit(node, path):
        colour[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if colour[nxt] == 1:
                return path[path.index(nxt):] + [nxt]
            if colour[nxt] == 0:
                cycle = visit(nxt, path)
                if cycle:
                    return cycle
        path.pop()
        colour[node] = 2
        return None

    for start in sorted(edges):
        if colour[start] == 0:
            cycle = visit(start, [])
            if cycle:
                return cycle
    return None


def listed():
    """{file relative to lib/pv: set of modules} from the README's "Imports inside functions"."""
    with open(README) as f:
        text = f.read()
    section = text.split("Imports inside functions\n", 1)[1].split("\nWhat the supervisors", 1)[0]
    entries = {}
    for line in section.splitlines():
        match = LISTED_LINE.match(line)
        if match:
            assert match.group(1) not in entries, "listed twice: " + match.group(1)
            entries[match.group(1)] = set(match.group(2).split())
    return entries


def test_lib_pv_has_no_import_cycle():
    known = modules(LIB)
    assert "pv.supervise.unit" in known and len(known) > 40
    assert find_cycle(graph(known)) is None, " -> ".join(find_cycle(graph(known)))


# The names of the supervisor's states, which every client may import (and
# the package around them, whose __init__ is a docstring: importing states
# runs it).
SHARED = {"pv.supervise", "pv.supervise.states"}


def layer(name, known):
    """"top" for pv, pv/*.py and SHARED, else the package's name (cmd, ctl, log, ...)."""
    parts = name.split(".")
    if name in SHARED or len(parts) == 1 or (
            len(parts) == 2 and not known[name].endswith("__init__.py")):
        return "top"
    return parts[1]


# The edges between packages that lib/pv/README names; cmd may use any package.
PACKAGE_EDGES = {("importer", "ctl"), ("ctl", "log"), ("supervise", "events"), ("ctl", "events"),
                 ("http", "ctl"), ("http", "events")}


def test_imports_point_from_cmd_to_the_packages_to_the_top():
    known = modules(LIB)
    crossing = set()
    for name, targets in graph(known).items():
        for target in targets:
            edge = (layer(name, known), layer(target, known))
            if edge[0] != edge[1] and edge[1] != "top" and edge[0] != "cmd":
                crossing.add(edge)
    assert crossing == PACKAGE_EDGES


def test_a_cycle_is_found_through_a_function_level_import(tmp_path):
    files = {"pv/__init__.py": "",
             "pv/a.py": "from pv import b\n",
             "pv/b.py": "import os\n\ndef f():\n    from pv.c import x\n",
             "pv/c/__init__.py": "",
             "pv/c/x.py": "from . import y\n",
             "pv/c/y.py": "def g():\n    from pv.a import thing\n"}
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    cycle = find_cycle(graph(modules(str(tmp_path))))
    assert cycle == ["pv.a", "pv.b", "pv.c.x", "pv.c.y", "pv.a"]


def test_imports_inside_functions_are_the_listed_ones():
    known = modules(LIB)
    actual = {}
    for name, path in known.items():
        nested = {target for target, _ in imports_of(name, known, nested_only=True)}
        if nested:
            actual[os.path.relpath(path, os.path.join(LIB, "pv"))] = nested
    expected = listed()
    assert len(expected) > 10
    unlisted = {f: sorted(m - expected.get(f, set())) for f, m in actual.items()
                if m - expected.get(f, set())}
    stale = {f: sorted(m - actual.get(f, set())) for f, m in expected.items()
             if m - actual.get(f, set())}
    # On failure, the lines lib/pv/README should have for the files concerned.
    lines = "\n".join("    %-22s %s" % (f, " ".join(sorted(actual.get(f, ()))))
                      for f in sorted(set(unlisted) | set(stale)))
    assert unlisted == {}, "imports inside functions missing from lib/pv/README: %s; the " \
        "files' lines would be (with a reason):\n%s" % (unlisted, lines)
    assert stale == {}, "lib/pv/README lists imports no function makes: %s; the files' " \
        "lines would be:\n%s" % (stale, lines)
