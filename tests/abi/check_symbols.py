#!/usr/bin/env python3
"""The exported ABI, the version script and the public headers agree.

Every function declared THRESH_API in include/thresh/*.h (and *.h.in) must be listed in
src/lib/libthresh.map and exported by the built shared library, and the
library must export nothing else (no internal helper leaks out). The Debian
package's symbols file (debian/libthresh0.symbols) lists every symbol of the
map under its version node, and nothing else (dpkg-gensymbols -c4 holds it
to the built library when the package is made).

usage: check_symbols.py SOURCE_ROOT LIBTHRESH.so
"""
import re
import subprocess
import sys
from pathlib import Path


def header_symbols(root):
    names = set()
    # version.h is generated from version.h.in: read the template
    for h in sorted(list((root / "include" / "thresh").glob("*.h")) +
                    list((root / "include" / "thresh").glob("*.h.in"))):
        text = h.read_text()
        # THRESH_API <type> [*]name( ... possibly across lines
        for m in re.finditer(r"THRESH_API\s+[^;(]*?\b(thresh_\w+)\s*\(", text):
            names.add(m.group(1))
    return names


def map_symbols(root):
    text = (root / "src" / "lib" / "libthresh.map").read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = set()
    for block in re.finditer(r"global:(.*?)(?:local:|\})", text, flags=re.S):
        names.update(re.findall(r"\b(thresh_\w+)\s*;", block.group(1)))
    return names


def map_nodes(root):
    """{symbol@NODE} of libthresh.map, version nodes included (THRESH_0.1@THRESH_0.1)."""
    text = (root / "src" / "lib" / "libthresh.map").read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = set()
    for node in re.finditer(r"(THRESH_[\w.]+)\s*\{(.*?)\}", text, flags=re.S):
        names.add("%s@%s" % (node.group(1), node.group(1)))
        body = re.split(r"local:", node.group(2))[0]
        names.update("%s@%s" % (n, node.group(1)) for n in re.findall(r"\b(thresh_\w+)\s*;", body))
    return names


def debian_symbols(root):
    """{symbol@NODE} of debian/libthresh0.symbols, or None without one."""
    path = root / "debian" / "libthresh0.symbols"
    if not path.exists():
        return None
    return set(re.findall(r"^ (\S+@\S+) ", path.read_text(), flags=re.M))


def exported_symbols(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] in "TtDdBbRrVvWw":
            name = parts[2].split("@")[0]
            if not name.startswith("THRESH_"):  # the version node itself
                names.add(name)
    return names


def main():
    root, lib = Path(sys.argv[1]), sys.argv[2]
    hdr, mp, exp = header_symbols(root), map_symbols(root), exported_symbols(lib)
    checks = [("declared in headers but not in libthresh.map", hdr, mp),
              ("in libthresh.map but not declared in a header", mp, hdr),
              ("declared but not exported by the library", hdr, exp),
              ("exported by the library but not public", exp, hdr)]
    deb = debian_symbols(root)
    if deb is not None:
        nodes = map_nodes(root)
        checks += [("in libthresh.map but not in debian/libthresh0.symbols", nodes, deb),
                   ("in debian/libthresh0.symbols but not in libthresh.map", deb, nodes)]
    failed = 0
    for what, a, b in checks:
        extra = sorted(a - b)
        if extra:
            failed += 1
            print("FAIL: %s: %s" % (what, ", ".join(extra)))
    ok = len(checks) - failed
    print("%d public functions; headers, version script and library agree" % len(hdr)
          if not failed else "symbol lists disagree")
    print("%d passed, %d failed" % (ok, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
