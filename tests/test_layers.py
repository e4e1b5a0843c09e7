"""No package imports a package above it: the order is written once, in docs/DEVELOPING.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEVELOPING = ROOT / "docs" / "DEVELOPING.md"


def layers() -> list[tuple[str, list[str]]]:
    """The layers, bottom first, as (name, module prefixes), from DEVELOPING.md's block."""
    text = DEVELOPING.read_text()
    match = re.search(r"<!-- layers -->\s*```text\n(.*?)```", text, re.S)
    assert match, "docs/DEVELOPING.md lost its <!-- layers --> block"
    order = []
    for line in match.group(1).splitlines():
        name, _, modules = line.partition(":")
        order.append((name.strip(), modules.split()))
    return order


def layer_of(module: str, order: list[tuple[str, list[str]]]) -> int | None:
    """The index of the layer holding ``module`` (longest prefix wins), or None if outside."""
    best: tuple[int, int] | None = None
    for index, (_name, prefixes) in enumerate(order):
        for prefix in prefixes:
            inside = module == prefix or module.startswith(prefix + ".")
            if inside and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return None if best is None else best[0]


def runtime_imports(path: Path) -> list[str]:
    """Modules of ``lms`` that ``path`` imports when it runs (not under ``TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text())
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(child) for child in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "lms":
                found.extend(f"lms.{alias.name}" for alias in node.names)
            elif node.module.startswith("lms."):
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(a.name for a in node.names if a.name.split(".")[0] == "lms")
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_the_order_names_every_module_of_lms():
    order = layers()
    outside = [
        module_name(path)
        for path in sorted((ROOT / "lms").rglob("*.py"))
        if layer_of(module_name(path), order) is None
    ]
    assert outside == [], "add these to the layers block of docs/DEVELOPING.md"


def test_no_module_imports_a_layer_above_its_own():
    order = layers()
    upward = []
    for path in sorted((ROOT / "lms").rglob("*.py")):
        source = module_name(path)
        here = layer_of(source, order)
        for target in runtime_imports(path):
            there = layer_of(target, order)
            if here is not None and there is not None and there > here:
                upward.append(f"{source} ({order[here][0]}) imports {target} ({order[there][0]})")
    assert upward == []


def test_the_checker_sees_an_upward_import(tmp_path):
    """The test above can fail: an import from a higher layer is found, a type-only one not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "from lms.enrollment import service\n"
        "if TYPE_CHECKING:\n"
        "    from lms.api import core\n"
    )
    order = layers()
    assert runtime_imports(sample) == ["lms.enrollment"]
    assert layer_of("lms.enrollment.service", order) > layer_of("lms.ledger.audit", order)
    assert layer_of("lms", order) == len(order) - 1
