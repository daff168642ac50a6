"""Layers run one way: each package imports (even lazily, inside functions) only those below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "bordersim"

# package -> packages of ours it must never import, at module level or inside a function
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "model": ("scenario", "calibration", "compiler", "engines", "fitting", "services", "commands"),
    "scenario": ("calibration", "compiler", "engines", "fitting", "services", "commands"),
    "calibration": ("compiler", "engines", "fitting", "services", "commands", "report"),
    "compiler": ("engines", "fitting", "services", "commands", "report", "store"),
    "engines": ("compiler", "fitting", "services", "commands", "report", "store", "scenario"),
    "fitting": ("services", "commands", "report", "store"),
    "results": (
        "scenario",
        "calibration",
        "compiler",
        "engines",
        "fitting",
        "services",
        "commands",
        "store",
        "report",
        "validation",
    ),
    "services": ("commands", "cli", "api"),
    "api.py": ("commands", "cli"),
}
# third-party modules a package must not import (the services print nothing themselves)
FORBIDDEN_LIBRARIES: dict[str, tuple[str, ...]] = {
    "services": ("rich", "typer"),
    "fitting": ("rich", "typer"),
    "compiler": ("rich", "typer"),
    "api.py": ("rich", "typer"),
}


def imported_modules(path: Path) -> set[str]:
    """Every module named by an import statement anywhere in the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(package: str, banned: tuple[str, ...], prefix: str) -> list[str]:
    found = []
    place = SRC / package
    for path in sorted(place.rglob("*.py")) if place.is_dir() else [place]:
        for module in imported_modules(path):
            for target in banned:
                name = f"{prefix}{target}"
                if module == name or module.startswith(name + "."):
                    found.append(f"{path.relative_to(SRC)} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_above_it(package: str) -> None:
    assert (SRC / package).exists()
    assert violations(package, FORBIDDEN[package], "bordersim.") == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN_LIBRARIES))
def test_services_and_compiler_print_nothing_themselves(package: str) -> None:
    assert violations(package, FORBIDDEN_LIBRARIES[package], "") == []


def test_the_check_sees_a_lazy_import_inside_a_function(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f():\n    from bordersim.engines import simulate\n    import rich.table\n"
    )
    assert imported_modules(sample) == {"bordersim.engines", "rich.table"}
