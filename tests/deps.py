"""Each dvc.yaml stage's code deps: exactly the project .py files its module imports, transitively.

    python -m tests.deps --check   # exit 1, printing a diff, when dvc.yaml's code deps are stale
    python -m tests.deps --write   # rewrite them in place

Imports are read from the source (``ast``), those inside functions included, so
lazily imported modules count too; importing ``a.b.c`` counts ``a/__init__.py``
and ``a/b/__init__.py``. A stage's code deps are its module first, then the
rest sorted; its data deps (anything else, data files inside pipeline/ too) are kept,
in their order, after them. The rewrite touches only the ``deps:`` lists, so
dvc.yaml keeps its comments and layout.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("pipeline", "stages")
STAGE_HEADER = re.compile(r"^  ([\w-]+):\s*$")
DEPS_HEADER = re.compile(r"^    deps:\s*$")
DEP_ITEM = re.compile(r"^      - (.+?)\s*$")


def module_file(module: str, root: Path = ROOT) -> str | None:
    """The project file defining ``module`` (a package's __init__.py), or None if not ours."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.relative_to(root).as_posix()
    return None


def _imported_names(path: Path, module: str) -> list[str]:
    """Module names one source file imports (``from a import b`` gives ``a`` and ``a.b``)."""
    is_package = path.name == "__init__.py"
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, is_package)
            names.append(source)
            names.extend(f"{source}.{alias.name}" for alias in node.names)
    return names


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """``from .x import y`` inside ``module``, as an absolute module name."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def imported_project_files(module: str, root: Path = ROOT) -> set[str]:
    """Project files importing ``module`` runs, transitively."""
    seen: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        path = module_file(name, root)
        if path is None or path in seen:
            continue
        seen.add(path)
        parts = name.split(".")
        pending.extend(".".join(parts[:n]) for n in range(1, len(parts)))  # a.b.c runs a/__init__, a/b/__init__
        pending.extend(_imported_names(root / path, name))
    return seen


def is_code(dep: str) -> bool:
    """A Python file of ours (a data file shipped inside the package, such as a table, is a data dep)."""
    return dep.split("/")[0] in CODE_DIRS and dep.endswith(".py")


def code_deps(stage: str, root: Path = ROOT) -> list[str]:
    """The stage module, then every other project file it imports, sorted."""
    own = f"stages/{stage}.py"
    files = imported_project_files(f"stages.{stage}", root)
    if own not in files:
        raise SystemExit(f"{root / own}: stage {stage!r} has no module")
    return [own] + sorted(files - {own})


def rewrite(text: str, root: Path = ROOT) -> str:
    """dvc.yaml's text with every stage's code deps replaced by the imported files."""
    lines = text.splitlines(keepends=True)
    out, stage, in_stages, index = [], None, False, 0
    while index < len(lines):
        line = lines[index]
        in_stages = line.startswith("stages:") or (in_stages and not re.match(r"^\S", line))
        header = STAGE_HEADER.match(line) if in_stages else None
        stage = header.group(1) if header else stage
        out.append(line)
        index += 1
        if in_stages and stage and DEPS_HEADER.match(line):
            items = []
            while index < len(lines) and DEP_ITEM.match(lines[index]):
                items.append(DEP_ITEM.match(lines[index]).group(1))
                index += 1
            deps = code_deps(stage, root) + [item for item in items if not is_code(item)]
            out.extend(f"      - {dep}\n" for dep in deps)
    return "".join(out)


def check_parsed(text: str, root: Path = ROOT) -> None:
    """The rewritten file parses to the intended deps (the rewrite is textual)."""
    stages = yaml.safe_load(text)["stages"]
    for name, stage in stages.items():
        code = [dep for dep in stage.get("deps") or [] if isinstance(dep, str) and is_code(dep)]
        if code != code_deps(name, root):
            raise SystemExit(f"dvc.yaml: stage {name}: deps could not be rewritten (is its deps: list in the usual layout?)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.deps", description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="exit 1 with a diff if dvc.yaml's code deps are stale")
    action.add_argument("--write", action="store_true", help="rewrite dvc.yaml's code deps in place")
    parser.add_argument("--dvc-yaml", type=Path, default=ROOT / "dvc.yaml")
    args = parser.parse_args(argv)
    root = args.dvc_yaml.resolve().parent
    current = args.dvc_yaml.read_text()
    fresh = rewrite(current, root)
    check_parsed(fresh, root)
    if args.write:
        if fresh != current:
            args.dvc_yaml.write_text(fresh)
        print(f"{args.dvc_yaml}: code deps {'rewritten' if fresh != current else 'already current'}")
        return 0
    if fresh != current:
        sys.stdout.writelines(difflib.unified_diff(current.splitlines(keepends=True), fresh.splitlines(keepends=True),
                                                   str(args.dvc_yaml), f"{args.dvc_yaml} (imports)"))
        print(f"{args.dvc_yaml}: code deps are stale; run python -m tests.deps --write", file=sys.stderr)
        return 1
    print(f"{args.dvc_yaml}: code deps match the imports")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
