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


def pod_specs(objects) -> list[tuple[dict, dict]]:
    """(owner, pod spec) of every pod the objects make: workloads, the CronJob's jobs, bare pods."""
    specs = []
    for obj in objects:
        if obj["kind"] == "CronJob":
            specs.append((obj, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]))
        elif obj["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
            specs.append((obj, obj["spec"]["template"]["spec"]))
        elif obj["kind"] == "Pod":
            specs.append((obj, obj["spec"]))
    return specs


def app_pod_containers(objects) -> dict:
    """(pod spec, container) of the app's containers by name: web, migrate, clearsessions (those rendered)."""
    containers = {}
    for owner, spec in pod_specs(objects):
        if owner["kind"] == "Deployment" and owner["metadata"]["name"] == "jiwoo":
            containers |= {c["name"]: (spec, c) for c in spec.get("initContainers", []) + spec["containers"]}
        if owner["kind"] == "CronJob":
            containers |= {c["name"]: (spec, c) for c in spec["containers"]}
    return containers


def mount_of(container: dict, path: str) -> dict | None:
    """The volume mount that holds `path`, the deepest if several."""
    holding = [m for m in container.get("volumeMounts", []) if path.startswith(m["mountPath"].rstrip("/") + "/")]
    return max(holding, key=lambda m: len(m["mountPath"]), default=None)


def credential(spec: dict, container: dict, name: str) -> tuple | None:
    """Where a container's variable `name` comes from, following <name>_FILE through its mount:
    ("value", v), ("secretKeyRef", secret, key), ("secret", secret, key) for a file projected from a
    Secret, ("csi", secretProviderClass, file) for a file of a CSI volume; None if it has none."""
    env = {e["name"]: e for e in container.get("env", [])}
    if name in env:
        entry = env[name]
        if "value" in entry:
            return ("value", entry["value"])
        ref = entry["valueFrom"]["secretKeyRef"]
        return ("secretKeyRef", ref["name"], ref["key"])
    if f"{name}_FILE" not in env:
        return None
    path = env[f"{name}_FILE"]["value"]
    mount = mount_of(container, path)
    assert mount is not None, f"{name}_FILE={path} is in no volume mounted into {container['name']}"
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    relative = path[len(mount["mountPath"].rstrip("/")) + 1 :]
    if "csi" in volume:
        return ("csi", volume["csi"]["volumeAttributes"]["secretProviderClass"], relative)
    sources = volume["projected"]["sources"] if "projected" in volume else [{"secret": volume["secret"]}]
    for source in sources:
        secret = source["secret"]
        for item in secret.get("items", []):
            if item["path"] == relative:
                return ("secret", secret.get("name") or secret.get("secretName"), item["key"])
    raise AssertionError(f"{name}_FILE={path}: {relative} is not a file of volume {volume['name']}")
