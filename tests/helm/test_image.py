"""The container image's Dockerfile passes hadolint and keeps the promises the chart relies on."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_gunicorn_as_non_root_with_static_files_collected():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "FROM python:3.11-slim" in dockerfile
    assert dockerfile.count("FROM ") >= 2  # multi-stage
    assert "USER 10001:10001" in dockerfile
    assert "collectstatic" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    assert 'CMD ["gunicorn", "-c", "python:jiwoo.gunicorn_conf", "jiwoo.wsgi"]' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)


def test_chart_app_version_matches_the_app():
    import yaml

    from jiwoo import __version__

    chart = yaml.safe_load((ROOT / "helm" / "jiwoo" / "Chart.yaml").read_text())
    assert chart["appVersion"] == __version__
