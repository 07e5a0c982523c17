"""The contract between the app's log lines and the log shippers' pipelines.

Real JSON lines from the app handling requests under gunicorn are wrapped as a container
runtime writes them (CRI), then run through the stages of the rendered Promtail config and
of the rendered Alloy config: the json stage's JMESPath expressions (evaluated with the
jmespath package), labels, structured metadata, label drops and the timestamp.
"""

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


class Pipeline:
    """One shipper's pipeline, as read from its rendered config."""

    def __init__(self, *, relabel_targets, expressions, labels, structured_metadata, dropped, timestamp_source):
        self.relabel_targets = [t for t in relabel_targets if not t.startswith("__")]
        self.expressions = expressions
        self.labels = labels
        self.structured_metadata = structured_metadata
        self.dropped = dropped
        self.timestamp_source = timestamp_source

    def process(self, raw: str) -> dict:
        """Labels, structured metadata, extracted values and timestamp for one CRI line."""
        match = CRI_LINE.match(raw)
        assert match, raw
        # Discovery labels (values made up: only their names matter here) and the file name.
        labels = {name: f"<{name}>" for name in self.relabel_targets} | {"filename": "/var/log/pods/x/web/0.log"}
        extracted = dict(labels)
        document = json.loads(match["content"])
        for name, expression in self.expressions.items():
            value = jmespath.search(expression, document)
            if value is not None:
                extracted[name] = value
        for name in self.labels:
            if name in extracted:
                labels[name] = str(extracted[name])
        metadata = {name: str(extracted[name]) for name in self.structured_metadata if name in extracted}
        for name in self.dropped:
            labels.pop(name, None)
        timestamp = datetime.fromisoformat(extracted[self.timestamp_source].replace("Z", "+00:00"))
        return {"labels": labels, "metadata": metadata, "extracted": extracted, "timestamp": timestamp}


def promtail_pipeline() -> Pipeline:
    config = yaml.safe_load(
        one(render_set("default-values.yaml"), "ConfigMap", "jiwoo-promtail")["data"]["promtail.yaml"]
    )
    scrape = config["scrape_configs"][0]
    stages = {next(iter(stage)): next(iter(stage.values())) for stage in scrape["pipeline_stages"]}
    return Pipeline(
        relabel_targets=[rule["target_label"] for rule in scrape["relabel_configs"]],
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


def alloy_pipeline() -> Pipeline:
    config = one(render_set("alloy-values.yaml"), "ConfigMap", "jiwoo-alloy")["data"]["config.alloy"]
    pairs = lambda block: dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', _river_block(config, block)))  # noqa: E731
    return Pipeline(
        relabel_targets=re.findall(r'target_label\s*=\s*"([^"]+)"', config),
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
    assert result["metadata"]["pod"] == "<pod>"


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
    assert promtail.relabel_targets == alloy.relabel_targets


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
