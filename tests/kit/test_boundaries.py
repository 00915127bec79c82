"""Architecture rules that a test keeps true: services never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"governance", "school_inspection", "monitoring", "accountability"}


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_services_import_only_the_kit_and_themselves() -> None:
    offences = []
    for package_dir in ROOT.glob("services/*/src/*"):
        own = package_dir.name
        assert own in SERVICES, f"unexpected service package {own}"
        for path in package_dir.rglob("*.py"):
            others = (_imported_top_levels(path) & SERVICES) - {own}
            offences += [f"{path.relative_to(ROOT)} imports {other}" for other in sorted(others)]
    assert not offences, "services share only the kit and its event contracts:\n" + "\n".join(offences)


def test_the_kit_imports_no_service() -> None:
    offences = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "shared/src/dudao").rglob("*.py")
        if _imported_top_levels(p) & SERVICES
    ]
    assert not offences
