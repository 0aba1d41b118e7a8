"""The dependency rule of STYLE.md: routing, billing and messaging are libraries; logistics never
imports app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "routing": {"flask", "sqlalchemy", "logistics", "billing", "app", "werkzeug", "alembic"},
    "billing": {"flask", "sqlalchemy", "logistics", "routing", "app", "werkzeug", "alembic"},
    "messaging": {"flask", "sqlalchemy", "logistics", "routing", "billing", "app", "werkzeug"},
    "logistics": {"app"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_the_rule_allows(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    bad = {str(f.relative_to(ROOT)): sorted(imported_roots(f) & FORBIDDEN[package]) for f in files}
    assert {f: b for f, b in bad.items() if b} == {}


def test_the_rule_checker_sees_imports() -> None:
    sample = ROOT / "app.py"
    assert "flask" in imported_roots(sample)
