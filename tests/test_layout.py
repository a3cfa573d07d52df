"""The package layout is the data flow: a stage imports only from earlier stages."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Stages in flow order; modules of one rank must not import each other across packages.
RANKS = {
    "rag.settings": 0,
    "rag.ingest": 1,
    "rag.index": 2,
    "rag.answer": 3,
    "rag.pipeline": 4,
    "rag.evaluation": 5,
    "ui": 5,
    "rag.serve": 6,
    "rag.training": 6,
    "rag.cli": 7,
}


def stage(module: str) -> str:
    for name in sorted(RANKS, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    raise AssertionError(f"{module} belongs to no stage: add it to RANKS")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in ("rag", "ui"):
                continue
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            out.append(next(n for n in reversed(names) if n.split(".")[0] in ("rag", "ui")))
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return [m for m in out if m.split(".")[0] in ("rag", "ui") and m not in ("rag", "ui")]


#: Every module but the two top-level package markers.
SOURCES = [
    p
    for p in sorted((ROOT / "rag").rglob("*.py")) + sorted((ROOT / "ui").rglob("*.py"))
    if module_name(p) not in ("rag", "ui")
]


def test_every_module_has_a_stage() -> None:
    for path in SOURCES:
        stage(module_name(path))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_back_along_the_flow(path: Path) -> None:
    own = stage(module_name(path))
    for imported in project_imports(path):
        other = stage(imported)
        assert RANKS[other] < RANKS[own] or other == own, (
            f"{module_name(path)} ({own}) imports {imported} ({other}): a later stage"
        )


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from rag.serve.api import create_app\nimport rag.cli\n", encoding="utf-8")
    assert project_imports(bad) == ["rag.serve.api.create_app", "rag.cli"]
    assert RANKS[stage("rag.serve.api.create_app")] > RANKS["rag.ingest"]
