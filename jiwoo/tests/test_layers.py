"""The layers of docs/ARCHITECTURE.md hold, as the import-linter contracts in pyproject.toml say,
and an import that breaks them is caught: `make test` runs the same check."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("jiwoo", "api", "accounts", "messages_app", "logs_app", "browser_traces", "operations", "observability")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the project's Python packages and its pyproject.toml, to break on purpose."""
    for package in (*PACKAGES, "core"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def add_import(tree: Path, module: str, statement: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{statement}  # noqa\n")


def test_the_project_keeps_its_contracts():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_observability_importing_a_feature_app_breaks_the_layers(tree):
    add_import(tree, "observability.probes", "from logs_app import store")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "observability is not allowed to import logs_app" in result.stdout


def test_the_bottom_package_importing_observability_breaks_the_layers(tree):
    add_import(tree, "core.errors", "from observability import events")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "core is not allowed to import observability" in result.stdout


def test_two_feature_apps_importing_each_other_break_the_layers(tree):
    add_import(tree, "logs_app.views", "from messages_app import selectors")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "logs_app is not allowed to import messages_app" in result.stdout


def test_a_cycle_between_two_modules_of_a_package_is_refused(tree):
    add_import(tree, "core.database", "from core import hardening")  # hardening imports database

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "no cycles between the modules of a package BROKEN" in result.stdout
