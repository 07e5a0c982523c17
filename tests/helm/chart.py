"""Render the chart with real Helm (helm-python-sdk embeds Helm's Go SDK) and read what it made."""

import functools
from pathlib import Path

import helm_python as helm
import yaml

CHART_DIR = Path(__file__).resolve().parents[2] / "helm" / "jiwoo"
VALUE_SETS = sorted(path.name for path in (CHART_DIR / "ci").glob("*.yaml"))
RELEASE = "jiwoo"
NAMESPACE = "jiwoo"


def load_values(name: str) -> dict:
    return yaml.safe_load((CHART_DIR / "ci" / name).read_text()) or {}


def render(
    values: dict | None = None,
    *,
    chart_dir: Path = CHART_DIR,
    is_upgrade: bool = False,
    name: str = RELEASE,
    namespace: str = NAMESPACE,
) -> list[dict]:
    """Every object the chart renders for these values (NOTES.txt left out)."""
    chart = helm.Chart.load(chart_dir)
    manifests = chart.render(
        values or {}, name=name, namespace=namespace, is_install=not is_upgrade, is_upgrade=is_upgrade
    )
    return [
        document
        for path, text in sorted(manifests.items())
        if not path.endswith("NOTES.txt")
        for document in yaml.safe_load_all(text)
        if document
    ]


@functools.cache
def render_set(name: str) -> tuple[dict, ...]:
    return tuple(render(load_values(name)))


def find(objects, kind: str, name: str | None = None) -> list[dict]:
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def one(objects, kind: str, name: str) -> dict:
    found = find(objects, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"] if workload["kind"] != "Pod" else workload["spec"]


def pod_labels(workload: dict) -> dict:
    return workload["spec"]["template"]["metadata"]["labels"]
