"""The order in which Helm and Argo CD create the rendered objects, and what each pod needs then.

Helm (`helm install --wait`, `helm upgrade --install --wait`, and so Terraform's helm_release
and Flux, which drive the same SDK): pre-install (pre-upgrade) hooks one by one by weight,
each Job waited to completion; then every ordinary resource at once; then the wait for
readiness; then post-install (post-upgrade) hooks. Hooks with `hook-succeeded` are deleted
once every hook of their event succeeded.

Argo CD renders with `helm template` and maps the hooks: pre-install and pre-upgrade to
PreSync, post-install and post-upgrade to PostSync, a hook's weight to its sync wave, and
ignores `test` hooks. PreSync waves are applied and waited one by one; then the Sync phase;
PostSync starts only once every Sync resource is Healthy, just as post-install starts only
after Helm's wait.

At each step, every ServiceAccount, Secret, ConfigMap and PersistentVolumeClaim a pod refers
to must exist, and whatever a workload's readiness (or a hook Job's completion) waits for must
be created no later than that workload: the database its migrations and /readyz need, the
migrations its init container waits for.

Set JIWOO_LIFECYCLE_CHART to another chart directory (e.g. an older revision exported with
`git archive`) to run the same checks against it.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.helm.chart import CHART_DIR, render

CHART = Path(os.environ.get("JIWOO_LIFECYCLE_CHART", CHART_DIR))
VALUE_SETS = sorted(path.name for path in (CHART / "ci").glob("*.yaml"))
FLOWS = ["helm install --wait", "helm upgrade --install --wait", "argo cd first sync", "argo cd later sync"]
POD_OWNERS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"}
WAITED_FOR_READINESS = {"Deployment", "StatefulSet", "DaemonSet"}
# Helm's install order for kinds within one step (a subset of its InstallOrder).
KIND_ORDER = [
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
    "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
    "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
    "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
    "IngressClass", "Ingress", "APIService",
]  # fmt: skip
ARGO_HOOKS = {
    "pre-install": "PreSync",
    "pre-upgrade": "PreSync",
    "post-install": "PostSync",
    "post-upgrade": "PostSync",
}


def key(obj: dict) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def annotations(obj: dict) -> dict:
    return obj["metadata"].get("annotations") or {}


def hook_events(obj: dict) -> set[str]:
    return {e.strip() for e in annotations(obj).get("helm.sh/hook", "").split(",") if e.strip()}


def hook_weight(obj: dict) -> int:
    return int(annotations(obj).get("helm.sh/hook-weight", "0"))


def kind_rank(obj: dict) -> int:
    return KIND_ORDER.index(obj["kind"]) if obj["kind"] in KIND_ORDER else len(KIND_ORDER)


@dataclass
class Step:
    index: int
    name: str
    objects: list[dict]
    # The objects that exist from here on; hooks deleted on success leave at `deleted_after`.
    deleted_after: dict = field(default_factory=dict)


def helm_steps(install: list[dict], upgrade: list[dict], flow: str) -> tuple[list[Step], list[dict]]:
    """Steps of `helm install` or `helm upgrade`, and what already exists before them."""
    is_upgrade = "upgrade" in flow
    objects = upgrade if is_upgrade else install
    pre, post = ("pre-upgrade", "post-upgrade") if is_upgrade else ("pre-install", "post-install")
    existing = [o for o in install if not hook_events(o)] if is_upgrade else []
    steps: list[Step] = []

    def add_hooks(event: str) -> None:
        hooks = sorted(
            (o for o in objects if event in hook_events(o)),
            key=lambda o: (hook_weight(o), kind_rank(o), o["metadata"]["name"]),
        )
        first = len(steps)
        for hook in hooks:
            steps.append(Step(len(steps), f"{event} hook {hook['kind']}/{hook['metadata']['name']}", [hook]))
        last = len(steps) - 1
        for step in steps[first:]:
            policy = annotations(step.objects[0]).get("helm.sh/hook-delete-policy", "")
            if "hook-succeeded" in policy:
                step.deleted_after[key(step.objects[0])] = last

    add_hooks(pre)
    resources = sorted((o for o in objects if not hook_events(o)), key=kind_rank)
    steps.append(Step(len(steps), "resources, then the wait for readiness", resources))
    add_hooks(post)
    steps.append(Step(len(steps), "helm test", [o for o in objects if "test" in hook_events(o)]))
    return steps, existing


def argo_steps(objects: list[dict], flow: str) -> tuple[list[Step], list[dict]]:
    """Steps of an Argo CD sync: PreSync waves, Sync, PostSync waves (hooks mapped from Helm's)."""
    existing = [o for o in objects if not hook_events(o)] if flow == "argo cd later sync" else []

    def phase(obj: dict) -> str | None:
        events = hook_events(obj)
        if not events:
            return "Sync"
        phases = {ARGO_HOOKS[e] for e in events if e in ARGO_HOOKS}
        return min(phases) if phases else None  # a `test` hook maps to nothing: Argo CD skips it

    def wave(obj: dict) -> int:
        return int(annotations(obj).get("argocd.argoproj.io/sync-wave", hook_weight(obj)))

    steps: list[Step] = []
    for name in ("PreSync", "Sync", "PostSync"):
        members = [o for o in objects if phase(o) == name]
        for number in sorted({wave(o) for o in members}):
            steps.append(Step(len(steps), f"{name} wave {number}", [o for o in members if wave(o) == number]))
    return steps, existing


def pod_spec_of(obj: dict) -> dict | None:
    if obj["kind"] == "Pod":
        return obj["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if obj["kind"] in POD_OWNERS:
        return obj["spec"]["template"]["spec"]
    return None


def references(spec: dict) -> set[tuple[str, str]]:
    """The ServiceAccount, Secrets, ConfigMaps and claims a pod cannot start without."""
    refs = {("ServiceAccount", spec.get("serviceAccountName") or "default")}
    for container in spec.get("initContainers", []) + spec["containers"]:
        for env in container.get("env", []):
            source = env.get("valueFrom", {})
            for kind, ref in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                if ref in source and not source[ref].get("optional"):
                    refs.add((kind, source[ref]["name"]))
        for env_from in container.get("envFrom", []):
            for kind, ref in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                if ref in env_from and not env_from[ref].get("optional"):
                    refs.add((kind, env_from[ref]["name"]))
    for volume in spec.get("volumes", []):
        if "secret" in volume and not volume["secret"].get("optional"):
            refs.add(("Secret", volume["secret"]["secretName"]))
        if "configMap" in volume and not volume["configMap"].get("optional"):
            refs.add(("ConfigMap", volume["configMap"]["name"]))
        for source in volume.get("projected", {}).get("sources", []):
            for kind, ref in (("Secret", "secret"), ("ConfigMap", "configMap")):
                if ref in source and not source[ref].get("optional"):
                    refs.add((kind, source[ref]["name"]))
        if "persistentVolumeClaim" in volume:
            refs.add(("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]))
    return refs


def command_line(container: dict) -> str:
    return " ".join(container.get("command", []) + container.get("args", []))


def runs_migrations(container: dict) -> bool:
    line = command_line(container)
    return "migrate_locked" in line or bool(re.search(r"manage\.py migrate(?![\w-])(?![^;&|\n]*--check)", line))


def waits_for_migrations(container: dict) -> bool:
    return bool(re.search(r"manage\.py migrate(?![\w-])[^;&|\n]*--check", command_line(container)))


def database_objects(container: dict, objects: list[dict]) -> list[tuple[str, str]]:
    """The in-chart Service named by DATABASE_URL and the workload behind it (nothing if external)."""
    url = next((e.get("value") for e in container.get("env", []) if e["name"] == "DATABASE_URL"), None)
    if not url:
        return []
    host = urlsplit(url.replace("$(", "").replace(")", "")).hostname or ""
    service = next((o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == host), None)
    if service is None:
        return []
    selector = service["spec"]["selector"].items()
    backends = [
        key(o)
        for o in objects
        if o["kind"] in WAITED_FOR_READINESS and selector <= o["spec"]["template"]["metadata"]["labels"].items()
    ]
    return [key(service), *backends]


def readiness_needs(obj: dict, objects: list[dict]) -> list[tuple[tuple[str, str], str]]:
    """What must run before this workload is ready (or this hook Job completes), and why."""
    spec = pod_spec_of(obj)
    blocking = spec.get("initContainers", []) + (spec["containers"] if obj["kind"] in {"Job", "Pod"} else [])
    needs = []
    for container in blocking:
        if runs_migrations(container):
            needs += [
                (ref, f"its {container['name']} container migrates the database")
                for ref in database_objects(container, objects)
            ]
        if waits_for_migrations(container):
            runners = [
                key(o)
                for o in objects
                if o["kind"] in {"Job", "Pod"} and any(runs_migrations(c) for c in pod_spec_of(o)["containers"])
            ]
            needs += [(ref, f"its {container['name']} container waits for the migrations") for ref in runners]
            if not runners:
                needs.append((("Job", "<nothing runs the migrations>"), "its init container waits for migrations"))
    for container in spec["containers"]:
        probe = container.get("readinessProbe", {}).get("httpGet", {})
        if probe.get("path") == "/readyz":
            needs += [(ref, "/readyz answers once the database does") for ref in database_objects(container, objects)]
    return needs


def migrations_before_serving(obj: dict) -> bool:
    """The app's pods start serving only after the schema is current."""
    spec = pod_spec_of(obj)
    return any(runs_migrations(c) or waits_for_migrations(c) for c in spec.get("initContainers", []))


def check(steps: list[Step], objects: list[dict], existing: list[dict]) -> list[str]:
    rendered = {key(o) for o in objects}
    created = {key(o): -1 for o in existing}
    deleted: dict = {}
    for step in steps:
        for obj in step.objects:
            created.setdefault(key(obj), step.index)
        deleted.update(step.deleted_after)
    never = len(steps) + 1
    problems = []
    for step in steps:
        for obj in step.objects:
            name = f"{obj['kind']}/{obj['metadata']['name']}"
            spec = pod_spec_of(obj)
            if spec is None:
                continue
            for ref in sorted(references(spec)):
                if ref not in rendered:
                    continue  # an existing Secret or the namespace's default ServiceAccount
                if created.get(ref, never) > step.index:
                    problems.append(f"{name} ({step.name}) refers to {ref[0]}/{ref[1]}, which does not exist yet")
                elif deleted.get(ref, never) < step.index:
                    problems.append(f"{name} ({step.name}) refers to {ref[0]}/{ref[1]}, a hook deleted before")
            if obj["kind"] in WAITED_FOR_READINESS or (obj["kind"] in {"Job", "Pod"} and hook_events(obj)):
                for need, why in readiness_needs(obj, objects):
                    if created.get(need, never) > step.index:
                        when = next((s.name for s in steps if need in map(key, s.objects)), "never")
                        problems.append(
                            f"{name} ({step.name}) cannot become ready: {why}, and {need[0]}/{need[1]} is "
                            f"created only later ({when})"
                        )
    return problems


def flow_steps(values: dict, flow: str) -> tuple[list[Step], list[dict], list[dict]]:
    install = render(values, chart_dir=CHART)
    upgrade = render(values, chart_dir=CHART, is_upgrade=True)
    if flow.startswith("helm"):
        steps, existing = helm_steps(install, upgrade, flow)
        return steps, existing, upgrade if "upgrade" in flow else install
    steps, existing = argo_steps(install, flow)
    return steps, existing, install


def load(name: str) -> dict:
    return yaml.safe_load((CHART / "ci" / name).read_text()) or {}


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_pod_finds_what_it_needs_at_its_step(value_set, flow):
    values = load(value_set)
    steps, existing, objects = flow_steps(values, flow)

    assert any(o["kind"] == "Deployment" for step in steps for o in step.objects)
    assert check(steps, objects, existing) == []


# Where migrations are off the operator runs them: those value sets have nothing to check here.
MIGRATING_SETS = [name for name in VALUE_SETS if load(name).get("migrations", {}).get("enabled") is not False]


def test_some_value_sets_run_migrations_and_some_do_not():
    assert MIGRATING_SETS
    assert set(VALUE_SETS) - set(MIGRATING_SETS)


@pytest.mark.parametrize("value_set", MIGRATING_SETS)
def test_the_app_serves_only_after_its_migrations_ran(value_set):
    values = load(value_set)
    objects = render(values, chart_dir=CHART)
    app = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "jiwoo")

    assert migrations_before_serving(app)


# The checker itself: it must catch both mistakes of the chart this one replaced.
def _deployment(init_command: list[str]) -> dict:
    spec = {
        "serviceAccountName": "app",
        "initContainers": [{"name": "wait", "command": init_command}],
        "containers": [{"name": "web", "env": [{"name": "DATABASE_URL", "value": "postgres://u@db:5432/d"}]}],
    }
    return {"kind": "Deployment", "metadata": {"name": "app"}, "spec": {"template": {"spec": spec}}}


def _job(hook: str, service_account: str = "app") -> dict:
    spec = {
        "serviceAccountName": service_account,
        "containers": [{"name": "migrate", "command": ["sh", "-c", "python manage.py migrate --noinput"]}],
    }
    return {
        "kind": "Job",
        "metadata": {"name": "migrate", "annotations": {"helm.sh/hook": hook}},
        "spec": {"template": {"spec": spec}},
    }


SERVICE_ACCOUNT = {"kind": "ServiceAccount", "metadata": {"name": "app"}}
WAITING_APP = _deployment(["sh", "-c", "until python manage.py migrate --check; do sleep 3; done"])


@pytest.mark.parametrize("flow", ["helm install --wait", "argo cd first sync"])
def test_the_checker_catches_a_post_install_migration_that_the_app_waits_for(flow):
    objects = [SERVICE_ACCOUNT, WAITING_APP, _job("post-install,pre-upgrade")]
    steps, existing = helm_steps(objects, objects, flow) if flow.startswith("helm") else argo_steps(objects, flow)

    (problem,) = check(steps, objects, existing)
    assert "Deployment/app" in problem
    assert "waits for the migrations" in problem


@pytest.mark.parametrize("flow", ["helm install --wait", "argo cd first sync"])
def test_the_checker_catches_a_pre_install_hook_using_an_ordinary_service_account(flow):
    objects = [SERVICE_ACCOUNT, WAITING_APP, _job("pre-install,pre-upgrade")]
    steps, existing = helm_steps(objects, objects, flow) if flow.startswith("helm") else argo_steps(objects, flow)

    (problem,) = check(steps, objects, existing)
    assert problem.startswith("Job/migrate")
    assert "ServiceAccount/app, which does not exist yet" in problem


def test_the_checker_accepts_the_same_hook_once_the_service_account_exists():
    objects = [SERVICE_ACCOUNT, WAITING_APP, _job("pre-install,pre-upgrade")]
    steps, existing = helm_steps(objects, objects, "helm upgrade --install --wait")

    assert check(steps, objects, existing) == []
