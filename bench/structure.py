"""Structural counts of the code base: how typed the store's face is and how much is
spelled twice. Run `python -m bench.structure [ROOT]` (ROOT: a checkout, default this one)
to compare two commits; the counts are read from the source with `ast`, nothing runs.

- untyped store signatures: public functions and methods of `store` whose parameters or
  return take `Any` (`dict[str, Any]`, `Mapping[str, Any]`), `object` values or the
  `Document` alias (a pymongo `Database` handle and numpy dtypes are not records, so
  not counted);
- hand-built ids: f-strings outside the id builders that join a slot or day key and
  another part with "/" (`f"{slot_key(slot)}/{dimension}"`);
- store submodule imports: names other packages import from `store.<submodule>` rather
  than from `store`;
- exception roots: exception classes whose base is a builtin, and names defined twice;
- CLI bootstraps: modules that configure logging themselves;
- the largest module, in lines.
"""

from __future__ import annotations

import ast
import itertools
import re
import sys
from collections import Counter
from pathlib import Path

PACKAGES = (
    "bench",
    "catalogue",
    "chat",
    "classifier",
    "dashboard",
    "emulator",
    "highlights",
    "renderer",
    "scheduler",
    "settings",
    "store",
    "twitch_client",
)
# A record typed by name (`Mapping[str, RollupGroup]`, `Mapping[str, str]`) is typed;
# `Any`/`object` values and the `Document` alias are not.
_UNTYPED = re.compile(r"\bAny\b|\bDocument\b|\[str, object\]")
_KEY_CALLS = re.compile(r"\b(slot_key|day_key)\b|^key$|\['_id'\]")
_BUILTIN_BASES = {"Exception", "ValueError", "RuntimeError", "OSError", "KeyError", "TypeError"}


def _modules(root: Path) -> list[Path]:
    return sorted(p for package in PACKAGES for p in (root / package).rglob("*.py"))


def _annotations(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    found = [ast.unparse(a.annotation) for a in every if a.annotation is not None]
    if function.returns is not None:
        found.append(ast.unparse(function.returns))
    return found


def untyped_store_signatures(root: Path) -> list[str]:
    found = []
    for path in sorted((root / "store").glob("*.py")):
        tree = ast.parse(path.read_text())
        functions: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.append(("", node))
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                functions += [
                    (f"{node.name}.", n)
                    for n in node.body
                    if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
        for owner, function in functions:
            public = not function.name.startswith("_") or function.name == "__init__"
            # A pymongo `Database[dict[str, Any]]` is a handle, not a record: not counted.
            # Nor are numpy's dtypes and arrays.
            records = [
                re.sub(r"Database\[[^\]]*\]\]?|np\.dtype\[Any\]", "", a)
                for a in _annotations(function)
            ]
            if public and any(_UNTYPED.search(a) for a in records):
                found.append(f"{path.relative_to(root)}:{owner}{function.name}")
    return found


def hand_built_ids(root: Path) -> list[str]:
    found = []
    for path in _modules(root):
        if (
            path.name in ("records.py", "_records.py") and path.parent.name == "store"
        ):  # where the id builders live
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.JoinedStr):
                continue
            parts = node.values
            for left, right in itertools.pairwise(parts):
                if (
                    isinstance(left, ast.FormattedValue)
                    and _KEY_CALLS.search(ast.unparse(left.value))
                    and isinstance(right, ast.Constant)
                    and str(right.value).startswith("/")
                ):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
                    break
    return found


def store_submodule_imports(root: Path) -> list[str]:
    found = set()
    for path in _modules(root):
        if path.relative_to(root).parts[0] == "store":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("store."):
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module == "store":
                # `from store import schema`: a submodule taken whole
                found.update(
                    f"store.{a.name}"
                    for a in node.names
                    if (root / "store" / f"{a.name}.py").exists()
                )
    return sorted(found)


def exception_classes(root: Path) -> tuple[list[str], list[str]]:
    roots, names = [], []
    for path in _modules(root):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {ast.unparse(b) for b in node.bases}
            if bases & _BUILTIN_BASES:
                roots.append(f"{path.relative_to(root)}:{node.name}")
            if bases & _BUILTIN_BASES or any(
                b.endswith(("Error", "Unavailable", "Exception")) for b in bases
            ):
                names.append(node.name)
    duplicates = sorted(name for name, n in Counter(names).items() if n > 1)
    return roots, duplicates


def cli_bootstraps(root: Path) -> list[str]:
    found = []
    for path in _modules(root):
        calls = {
            ast.unparse(node.func)
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call)
        }
        if calls & {"logging.basicConfig", "basicConfig", "logging.config.dictConfig"}:
            found.append(str(path.relative_to(root)))
    return found


def largest_module(root: Path) -> tuple[str, int]:
    sizes = {str(p.relative_to(root)): len(p.read_text().splitlines()) for p in _modules(root)}
    name = max(sizes, key=lambda n: sizes[n])
    return name, sizes[name]


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    untyped = untyped_store_signatures(root)
    ids = hand_built_ids(root)
    imports = store_submodule_imports(root)
    roots, duplicates = exception_classes(root)
    bootstraps = cli_bootstraps(root)
    name, lines = largest_module(root)
    modules = sorted({i.rsplit(".", 1)[0] for i in imports})
    print(f"untyped public store signatures: {len(untyped)}")
    print(f"hand-built ids: {len(ids)}  {' '.join(ids)}")
    print(f"names imported from store submodules: {len(imports)} from {len(modules)} submodules")
    print(f"exception roots (builtin bases): {len(roots)}  duplicated names: {duplicates}")
    print(f"logging set-ups: {len(bootstraps)}  {' '.join(bootstraps)}")
    print(f"largest module: {name} ({lines} lines)")
    if "-v" in sys.argv:
        print("\n".join(["", *untyped, "", *imports, "", *roots]))


if __name__ == "__main__":
    main()
