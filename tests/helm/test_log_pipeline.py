"""The contract between the app's log lines and the log shippers' pipelines.

Real JSON lines from the app handling requests under gunicorn are wrapped as a container
runtime writes them (CRI), then run through the stages of the rendered Promtail config and
of the rendered Alloy config: the json stage's JMESPath expressions (evaluated with the
jmespath package), labels, structured metadata, label drops and the timestamp.
"""

import functools
import json
import re
import uuid
from datetime import UTC, datetime

import jmespath
import pytest
import yaml

from tests.appserver import AppServer, Visitor
from tests.helm.chart import one, render_set

pytestmark = pytest.mark.e2e

ALLOWED_LABELS = {"level", "service_name", "namespace", "app", "container"}
PER_REQUEST = {"trace_id", "span_id", "user", "pod"}
CRI_LINE = re.compile(r"^(?P<time>\S+) (?P<stream>stdout|stderr) (?P<flags>\S+) (?P<content>.*)$", re.DOTALL)


@pytest.fixture(scope="module")
def app_lines(tmp_path_factory):
    """The app's own stdout while it handles a sign-up and a saved message."""
    server = AppServer(tmp_path_factory.mktemp("pipeline"), env={"OTEL_SERVICE_NAME": "jiwoo"}).start()
    try:
        visitor = Visitor(server.url)
        visitor.sign_up(f"ship_{uuid.uuid4().hex[:6]}", f"Pw-{uuid.uuid4().hex}")
        visitor.post_form("/messages/", {"text": "line for Loki"})
    finally:
        server.stop()
    return server.log_text().rstrip("\n").split("\n")


def cri_wrap(line: str) -> str:
    return f"{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')} stdout F {line}"


# A made-up pod of the app's Deployment, as Kubernetes discovery describes it to the shipper.
WEB_POD = {
    "__meta_kubernetes_namespace": "jiwoo",
    "__meta_kubernetes_pod_name": "jiwoo-7d9f-abcde",
    "__meta_kubernetes_pod_container_name": "web",
    "__meta_kubernetes_pod_uid": "0a1b2c3d",
    "__meta_kubernetes_pod_label_app_kubernetes_io_name": "jiwoo",
    "__meta_kubernetes_pod_label_app_kubernetes_io_instance": "jiwoo",
    "__meta_kubernetes_pod_label_app_kubernetes_io_component": "web",
}
# Loki's default discover_service_name: without a service_name label, the first of these names the stream.
LOKI_SERVICE_NAME_SOURCES = [
    "service_name", "service", "app", "application", "name", "app_kubernetes_io_name", "container",
    "container_name", "k8s_container_name", "component", "workload", "job", "k8s_job_name",
]  # fmt: skip


def relabel(rules: list[dict], discovered: dict) -> dict:
    """Prometheus' relabelling (action replace), as Promtail and Alloy run it: the source labels'
    values joined by the separator, the regex matched in full, the target set to the replacement
    with $1 filled in (removed if that is empty); labels starting with __ are then dropped."""
    labels = dict(discovered)
    for rule in rules:
        value = rule.get("separator", ";").join(labels.get(name, "") for name in rule["source_labels"])
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        if not match:
            continue
        result = re.sub(r"\$(?:\{(\d+)\}|(\d+))", functools.partial(_group, match), rule.get("replacement", "$1"))
        if result:
            labels[rule["target_label"]] = result
        else:
            labels.pop(rule["target_label"], None)
    return {name: value for name, value in labels.items() if not name.startswith("__")}


def _group(match: re.Match, reference: re.Match) -> str:
    return match.group(int(reference[1] or reference[2])) or ""


def loki_service_name(labels: dict) -> str:
    return next((labels[name] for name in LOKI_SERVICE_NAME_SOURCES if labels.get(name)), "unknown_service")


def discovered(workload: dict, container: str) -> dict:
    """What Kubernetes discovery tells the shipper about a pod of this rendered workload."""
    pod_labels = workload["spec"]["template"]["metadata"]["labels"]
    return {
        "__meta_kubernetes_namespace": "jiwoo",
        "__meta_kubernetes_pod_name": f"{workload['metadata']['name']}-0",
        "__meta_kubernetes_pod_container_name": container,
        "__meta_kubernetes_pod_uid": "4e5f6a7b",
    } | {"__meta_kubernetes_pod_label_" + re.sub(r"[^A-Za-z0-9_]", "_", k): v for k, v in pod_labels.items()}


class Pipeline:
    """One shipper's pipeline, as read from its rendered config."""

    def __init__(self, *, relabel_rules, expressions, labels, structured_metadata, dropped, timestamp_source):
        self.relabel_rules = relabel_rules
        self.expressions = expressions
        self.labels = labels
        self.structured_metadata = structured_metadata
        self.dropped = dropped
        self.timestamp_source = timestamp_source

    def process(self, raw: str, pod: dict = WEB_POD) -> dict:
        """Labels, structured metadata, extracted values and timestamp for one CRI line of this pod."""
        match = CRI_LINE.match(raw)
        assert match, raw
        labels = relabel(self.relabel_rules, pod) | {"filename": "/var/log/pods/x/web/0.log"}
        # The extracted map starts as the stream's labels; a line that is no JSON adds nothing.
        extracted = dict(labels)
        try:
            document = json.loads(match["content"])
        except json.JSONDecodeError:
            document = None
        for name, expression in self.expressions.items() if isinstance(document, dict) else ():
            value = jmespath.search(expression, document)
            if value is not None:
                extracted[name] = value
        for name in self.labels:
            if name in extracted:
                labels[name] = str(extracted[name])
        metadata = {name: str(extracted[name]) for name in self.structured_metadata if name in extracted}
        for name in self.dropped:
            labels.pop(name, None)
        source = extracted.get(self.timestamp_source)
        timestamp = datetime.fromisoformat(source.replace("Z", "+00:00")) if source else None
        return {"labels": labels, "metadata": metadata, "extracted": extracted, "timestamp": timestamp}


def promtail_pipeline() -> Pipeline:
    config = yaml.safe_load(
        one(render_set("default-values.yaml"), "ConfigMap", "jiwoo-promtail")["data"]["promtail.yaml"]
    )
    scrape = config["scrape_configs"][0]
    stages = {next(iter(stage)): next(iter(stage.values())) for stage in scrape["pipeline_stages"]}
    return Pipeline(
        relabel_rules=scrape["relabel_configs"],
        expressions=stages["json"]["expressions"],
        labels=list(stages["labels"]),
        structured_metadata=list(stages["structured_metadata"]),
        dropped=stages["labeldrop"],
        timestamp_source=stages["timestamp"]["source"],
    )


def _river_block(config: str, block: str) -> str:
    match = re.search(re.escape(block) + r"\s*\{\s*(?:expressions|values)\s*=\s*(\{.*?\}|\[.*?\])", config, re.DOTALL)
    assert match, f"no {block} in the Alloy config"
    return match.group(1)


def _alloy_rules(config: str) -> list[dict]:
    """discovery.relabel's rule blocks, each attribute's value read as JSON (strings, lists)."""
    return [
        {name: json.loads(value) for name, value in re.findall(r"^\s*(\w+)\s*=\s*(.+?)\s*$", body, re.MULTILINE)}
        for body in re.findall(r"\brule \{\n(.*?)\n\s*\}", config, re.DOTALL)
    ]


def alloy_pipeline() -> Pipeline:
    config = one(render_set("alloy-values.yaml"), "ConfigMap", "jiwoo-alloy")["data"]["config.alloy"]
    pairs = lambda block: dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', _river_block(config, block)))  # noqa: E731
    return Pipeline(
        relabel_rules=_alloy_rules(config),
        expressions=pairs("stage.json"),
        labels=list(pairs("stage.labels")),
        structured_metadata=list(pairs("stage.structured_metadata")),
        dropped=json.loads(_river_block(config, "stage.label_drop")),
        timestamp_source=re.search(r'stage\.timestamp\s*\{\s*source\s*=\s*"(\w+)"', config).group(1),
    )


PIPELINES = {"promtail": promtail_pipeline, "alloy": alloy_pipeline}


@pytest.mark.parametrize("shipper", PIPELINES)
def test_every_extracted_field_is_in_a_user_action_line(app_lines, shipper):
    pipeline = PIPELINES[shipper]()
    action = next(line for line in app_lines if '"event":"message.create"' in line)

    result = pipeline.process(cri_wrap(action))

    missing = [name for name in pipeline.expressions if name not in result["extracted"]]
    assert missing == []
    assert set(pipeline.expressions) >= {"level", "service_name", "trace_id", "span_id", "user", "event", "timestamp"}


@pytest.mark.parametrize("shipper", PIPELINES)
def test_labels_are_few_and_per_request_values_are_structured_metadata(app_lines, shipper):
    pipeline = PIPELINES[shipper]()

    for line in app_lines:
        result = pipeline.process(cri_wrap(line))
        assert set(result["labels"]) <= ALLOWED_LABELS, line
        assert not PER_REQUEST & set(result["labels"]), line
        if "trace_id" in json.loads(line):
            assert result["metadata"]["trace_id"] == json.loads(line)["trace_id"]
            assert result["metadata"]["span_id"] == json.loads(line)["span_id"]
    assert result["metadata"]["pod"] == WEB_POD["__meta_kubernetes_pod_name"]


@pytest.mark.parametrize("shipper", PIPELINES)
def test_service_name_and_level_become_labels_and_the_lines_own_time_is_kept(app_lines, shipper):
    pipeline = PIPELINES[shipper]()
    line = next(line for line in app_lines if '"event":"http.request"' in line)
    record = json.loads(line)

    result = pipeline.process(cri_wrap(line))

    assert result["labels"]["service_name"] == "jiwoo"
    assert result["labels"]["level"] == record["level"]
    assert result["timestamp"] == datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))


def test_promtail_and_alloy_run_the_same_pipeline():
    promtail, alloy = promtail_pipeline(), alloy_pipeline()

    assert promtail.expressions == alloy.expressions
    assert promtail.labels == alloy.labels
    assert promtail.structured_metadata == alloy.structured_metadata
    assert promtail.dropped == alloy.dropped
    assert promtail.relabel_rules == alloy.relabel_rules


def test_dashboard_queries_use_only_labels_and_fields_the_pipeline_produces(app_lines):
    objects = render_set("ingress-hpa-pdb-values.yaml")
    dashboard = json.loads(one(objects, "ConfigMap", "jiwoo-jiwoo-dashboard")["data"]["jiwoo.json"])
    request_fields = set(json.loads(next(line for line in app_lines if '"event":"http.request"' in line)))
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert len(expressions) >= 5

    for expression in expressions:
        for selector in re.findall(r"\{([^}]*)\}", expression):
            if "$__" in selector or not selector.strip():
                continue
            labels = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", selector))
            assert labels <= ALLOWED_LABELS, expression
        after_json = expression.split("| json", 1)[1] if "| json" in expression else ""
        fields = set(re.findall(r"\|\s*(\w+)\s*(?:>=|<=|!=|=~|=|>|<)", after_json))
        fields |= set(re.findall(r"unwrap (\w+)", after_json))
        assert fields <= request_fields, (expression, fields - request_fields)
        for grouping in re.findall(r"by \(([^)]*)\)", expression):
            for name in (g.strip() for g in grouping.split(",") if g.strip()):
                assert name in ALLOWED_LABELS | request_fields, (expression, name)
    titles = {panel["title"] for panel in dashboard["panels"]}
    assert {"Requests per second", "Error rate (5xx)", "Latency p95", "Recent errors"} <= titles


def test_datasources_link_logs_to_traces_and_back():
    objects = render_set("ingress-hpa-pdb-values.yaml")
    configmap = one(objects, "ConfigMap", "jiwoo-jiwoo-datasources")
    (provisioning,) = (yaml.safe_load(text) for text in configmap["data"].values())
    by_type = {ds["type"]: ds for ds in provisioning["datasources"]}

    derived = by_type["loki"]["jsonData"]["derivedFields"][0]
    assert (derived["matcherType"], derived["matcherRegex"]) == ("label", "trace_id")
    assert derived["datasourceUid"] == by_type["tempo"]["uid"]
    to_logs = by_type["tempo"]["jsonData"]["tracesToLogsV2"]
    assert to_logs["datasourceUid"] == by_type["loki"]["uid"]
    assert "trace_id=" in to_logs["query"]
    assert "service_name=" in to_logs["query"]
    assert configmap["metadata"]["labels"]["grafana_datasource"] == "1"
    assert one(objects, "ConfigMap", "jiwoo-jiwoo-dashboard")["metadata"]["labels"]["grafana_dashboard"] == "1"


# Lines as PostgreSQL, Redis and the shippers write them: none carries the app's service_name.
OTHER_LINES = {
    ("StatefulSet", "jiwoo-postgresql", "postgresql"): "2026-01-05 10:00:00.000 UTC [1] LOG:  database system is ready",
    ("Deployment", "jiwoo-redis", "redis"): "1:M 05 Jan 2026 10:00:00.000 * Ready to accept connections tcp",
    ("DaemonSet", "jiwoo-promtail", "promtail"): '{"level":"info","ts":"2026-01-05T10:00:00Z","msg":"Seeked"}',
    ("DaemonSet", "jiwoo-alloy", "alloy"): 'ts=2026-01-05T10:00:00Z level=info msg="tailer started"',
}


@pytest.mark.parametrize("shipper", PIPELINES)
def test_only_the_apps_lines_are_named_after_the_app_in_loki(app_lines, shipper):
    """Every pod of the release has app.kubernetes.io/name=jiwoo, which the shippers copy to `app`:
    a stream without service_name would be the app's to Loki. The NOTES and dashboard queries,
    {service_name="jiwoo"}, must find the app's lines and nothing of PostgreSQL's or Redis'."""
    pipeline = PIPELINES[shipper]()
    objects = render_set("default-values.yaml")
    web = one(objects, "Deployment", "jiwoo")
    others = [
        (one(objects if name != "jiwoo-alloy" else render_set("alloy-values.yaml"), kind, name), container, line)
        for (kind, name, container), line in OTHER_LINES.items()
    ]

    for line in app_lines[:20]:
        result = pipeline.process(cri_wrap(line), discovered(web, "web"))
        assert loki_service_name(result["labels"]) == "jiwoo", line
    traceback = pipeline.process(cri_wrap("Traceback (most recent call last):"), discovered(web, "web"))
    assert loki_service_name(traceback["labels"]) == "jiwoo"  # the app's own, even when not JSON
    for workload, container, line in others:
        result = pipeline.process(cri_wrap(line), discovered(workload, container))
        component = workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        assert result["labels"]["app"] == "jiwoo"
        assert loki_service_name(result["labels"]) == f"jiwoo-{component}", workload["metadata"]["name"]
        assert set(result["labels"]) <= ALLOWED_LABELS


@pytest.mark.parametrize("shipper", PIPELINES)
def test_pods_of_other_releases_keep_the_names_loki_gives_them(shipper):
    """Shipping more namespaces (loki.namespaces) must not rename anyone else's streams."""
    pipeline = PIPELINES[shipper]()
    for namespace, instance in (("jiwoo-staging", "jiwoo"), ("jiwoo", "jiwoo-canary")):
        pod = WEB_POD | {
            "__meta_kubernetes_namespace": namespace,
            "__meta_kubernetes_pod_label_app_kubernetes_io_instance": instance,
            "__meta_kubernetes_pod_label_app_kubernetes_io_component": "primary",
        }

        result = pipeline.process(cri_wrap("LOG:  checkpoint complete"), pod)

        assert "service_name" not in result["labels"]
        assert loki_service_name(result["labels"]) == "jiwoo"  # Loki's own rule, from `app`
