"""Print the explicit name table of ``qsgd/__init__.py`` from the ``__all__`` of every module.

Run after adding or removing a public name; ``tests/test_package.py`` checks that the table in
``qsgd/__init__.py`` equals what this prints (and that no name is defined twice).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "qsgd"


def modules() -> list[str]:
    """Dotted names (relative to qsgd) of every public module: no leading underscore, packages expanded."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]  # a subpackage's own names (the top-level __init__ holds none)
        if not parts or any(p.startswith("_") for p in parts):
            continue
        found.append(".".join(parts))
    return found


def exported(module: str) -> list[str]:
    """The names in the ``__all__`` of *module* that it defines itself (re-exports are left to their owner)."""
    path = ROOT / module.replace(".", "/")
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    listed, own = [], set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        own.update(targets)
        if "__all__" in targets and isinstance(node.value, (ast.List, ast.Tuple)):
            listed = [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
    return [name for name in listed if name in own]


def table() -> dict[str, str]:
    """name -> module, refusing a name that two modules export."""
    names: dict[str, str] = {}
    clashes = []
    for module in modules():
        for name in exported(module):
            if name in names:
                clashes.append(f"{name}: {names[name]} and {module}")
            names[name] = module
    if clashes:
        raise SystemExit("public names exported twice:\n  " + "\n  ".join(clashes))
    return names


BEGIN, END = "# --- name table: written by scripts/name_table.py --write\n", "# --- end of name table\n"


def render() -> str:
    """The table as the Python source that ``qsgd/__init__.py`` holds between its two markers."""
    names = table()
    lines = ["_NAMES = {\n"]
    for module in modules():
        lines += [f"    {name!r}: {module!r},\n" for name in exported(module) if names[name] == module]
    lines.append("}\n")
    return "".join(lines)


if __name__ == "__main__":
    text = render()
    if "--write" in sys.argv[1:]:
        init = ROOT / "__init__.py"
        source = init.read_text(encoding="utf-8")
        head, rest = source.split(BEGIN)
        _, tail = rest.split(END)
        init.write_text(head + BEGIN + text + END + tail, encoding="utf-8")
    else:
        sys.stdout.write(text)
