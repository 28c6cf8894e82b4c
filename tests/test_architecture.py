"""Floors that only look down, and no import circle: the import graph of the whole package.

Every ``import`` counts, at module top or inside a function (a deferred import still ties two
modules together). The floors, bottom to top:

* ``hypnic.detector``: arrays in, arrays out; imports nothing else of hypnic.
* ``hypnic.recordings`` and ``hypnic.firmware_bridge``: bytes and files <-> samples; they may use
  the detector, never the use cases, the commands, the report or the benchmarks.
* the use cases (``hypnic.<module>``: analysis, detect, replay, record, export, batch ...) and
  ``hypnic.benchmarks`` (synthetic nights, scoring, speed: the third use).
* ``hypnic.commands`` and ``hypnic.report`` on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Import name -> folder (the setuptools package-dir mapping).
FOLDERS = {
    "hypnic": ROOT / "hypnic",
    "hypnic.detector": ROOT / "detector",
    "hypnic.recordings": ROOT / "recordings",
    "hypnic.firmware_bridge": ROOT / "firmware_bridge",
    "hypnic.benchmarks": ROOT / "benchmarks",
}
#: What each lower floor must not import (prefixes of module names).
FORBIDDEN = {
    "hypnic.detector": ("hypnic.",),
    "hypnic.recordings": ("hypnic.",),
    "hypnic.firmware_bridge": ("hypnic.",),
}
#: ... except these floors below them.
ALLOWED = {
    "hypnic.detector": ("hypnic.detector",),
    "hypnic.recordings": ("hypnic.recordings", "hypnic.detector"),
    "hypnic.firmware_bridge": ("hypnic.firmware_bridge", "hypnic.recordings", "hypnic.detector"),
}


def modules() -> dict[str, Path]:
    out = {}
    for name, folder in FOLDERS.items():
        for py in folder.rglob("*.py"):
            rel = py.relative_to(folder).with_suffix("")
            if name == "hypnic" and rel.parts[0] in ("detector", "recordings", "firmware_bridge", "benchmarks"):
                continue
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([name, *parts])] = py
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in its body)."""
    mods = modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rsplit(".", 1)[0] if "." in name else ""
        return name or None

    graph: dict[str, set[str]] = {}
    for mod, py in mods.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(py.read_text(), str(py))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for n in names:
                if n == "hypnic" or n.startswith("hypnic."):
                    r = resolve(n)
                    # A package's own __init__ is on the way to every module below it.
                    if r and r != mod and not mod.startswith(r + "."):
                        targets.add(r)
        graph[mod] = targets
    return graph


def floor_of(mod: str) -> str:
    for floor in ("hypnic.detector", "hypnic.recordings", "hypnic.firmware_bridge", "hypnic.benchmarks"):
        if mod == floor or mod.startswith(floor + "."):
            return floor
    return "hypnic"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_lower_floors_import_nothing_above_them():
    bad = []
    for mod, targets in import_graph().items():
        floor = floor_of(mod)
        for t in targets:
            if floor in FORBIDDEN and not any(t == a or t.startswith(a + ".") for a in ALLOWED[floor]):
                bad.append(f"{mod} -> {t}")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_circle():
    assert cycles(import_graph()) == []
