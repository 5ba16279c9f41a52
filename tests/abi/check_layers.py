#!/usr/bin/env python3
"""check_layers.py SRCROOT - the layering rules of the tree, checked.

1. The library is acyclic. A module of src/lib is a file's name without its
   extension and without an "_int" suffix (db.c, db_int.h: "db"); it
   depends on the modules whose headers its files include (src/common's
   modules too). The module graph must have no cycle, and neither may the
   graph of headers including headers.
2. Programs use the public API: src/cli and src/daemon include no private
   header of src/lib.
3. No program builds another's sources: nothing under src/daemon or
   tests/fuzz names a file under src/cli, and nothing under src/cli or
   src/common names src/daemon.
4. One file each knows LMDB and libsodium: only src/lib/store.c includes
   <lmdb.h>, only src/lib/hash.c includes <sodium.h>.

Prints every breach and exits 1 when there is one; prints the module order
when there is none.
"""
import re
import sys
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def includes(path):
    return [(kind, name) for kind, name in INCLUDE.findall(path.read_text(errors="replace"))]


def module_of(name):
    stem = Path(name).stem
    return stem[:-4] if stem.endswith("_int") else stem


def find_cycle(graph):
    """A cycle of graph (dict node -> set of nodes) as a list, or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {n: WHITE for n in graph}
    stack = []

    def visit(n):
        colour[n] = GREY
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if colour.get(m, WHITE) == GREY:
                return stack[stack.index(m):] + [m]
            if colour.get(m, WHITE) == WHITE:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        colour[n] = BLACK
        return None

    for n in sorted(graph):
        if colour[n] == WHITE:
            c = visit(n)
            if c:
                return c
    return None


def topo(graph):
    order, seen = [], set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for m in sorted(graph.get(n, ())):
            visit(m)
        order.append(n)

    for n in sorted(graph):
        visit(n)
    return order


def main():
    root = Path(sys.argv[1])
    lib, common = root / "src" / "lib", root / "src" / "common"
    local = {p.name for p in lib.glob("*.h")} | {p.name for p in common.glob("*.h")}
    errors = []

    # 1. modules and headers of the library
    modules, headers = {}, {}
    for f in sorted(list(lib.glob("*.[ch]")) + list(common.glob("*.[ch]"))):
        mod = module_of(f.name)
        modules.setdefault(mod, set())
        if f.suffix == ".h":
            headers.setdefault(f.name, set())
        for kind, name in includes(f):
            if kind != '"' or name not in local:
                continue
            if module_of(name) != mod:
                modules[mod].add(module_of(name))
            if f.suffix == ".h":
                headers[f.name].add(name)
    cycle = find_cycle(modules)
    if cycle:
        errors.append("library modules depend on each other in a circle: " + " -> ".join(cycle))
    cycle = find_cycle(headers)
    if cycle:
        errors.append("headers include each other in a circle: " + " -> ".join(cycle))

    # 2. the programs use the public API (and src/common)
    private = {p.name for p in lib.glob("*.h")}
    for d in ("cli", "daemon"):
        for f in sorted((root / "src" / d).glob("*.[ch]")):
            for kind, name in includes(f):
                if kind == '"' and Path(name).name in private and not name.startswith("thresh/"):
                    errors.append(f"{f.relative_to(root)} includes the library's private {name}")

    # 3. no program builds another's sources
    def names(folder, needle):
        for f in sorted(folder.rglob("*")):
            if f.is_file() and f.suffix in (".c", ".h", ".build", ".sh", ".py") and "corpus" not in f.parts:
                text = f.read_text(errors="replace")
                if re.search(needle, text):
                    yield f
    for folder in (root / "src" / "daemon", root / "tests" / "fuzz"):
        for f in names(folder, r"(src/cli|\.\./cli/)"):
            errors.append(f"{f.relative_to(root)} names a file under src/cli")
    for folder in (root / "src" / "cli", root / "src" / "common"):
        for f in names(folder, r"(src/daemon|\.\./daemon/)"):
            errors.append(f"{f.relative_to(root)} names a file under src/daemon")

    # 4. one file each knows LMDB and libsodium
    for f in sorted(root.glob("src/**/*.[ch]")):
        for kind, name in includes(f):
            if name == "lmdb.h" and f != lib / "store.c":
                errors.append(f"{f.relative_to(root)} includes <lmdb.h> (only store.c may)")
            if name.startswith("sodium") and f != lib / "hash.c":
                errors.append(f"{f.relative_to(root)} includes <{name}> (only hash.c may)")

    for e in errors:
        print("layers: " + e)
    if errors:
        print(f"0 passed, {len(errors)} failed")
        return 1
    print("library modules, lowest first: " + " ".join(topo(modules)))
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
