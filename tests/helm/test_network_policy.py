"""The NetworkPolicies, read as a cluster would enforce them (networkPolicy.enabled).

A small model of Kubernetes' NetworkPolicy semantics: a pod that some policy selects for a
direction takes only what one of those policies' rules allows; a connection gets through when
the source's egress and the destination's ingress both allow it. Peers: podSelector alone means
the policy's namespace, namespaceSelector alone every pod of the namespaces it selects, both
together the selected pods there; ipBlock matches addresses outside the pod network. Named ports
are resolved on the destination pod. The pods are the rendered ones (their labels and ports)
beside made-up neighbours: CoreDNS, the ingress controllers, the monitoring stack, strangers.
"""

import ipaddress
from dataclasses import dataclass, field

import helm_python as helm
import pytest

from tests.helm.chart import CHART_DIR, NAMESPACE, find, load_values, pod_specs, render, render_set

POLICY_SETS = ["network-policy-values.yaml", "azure-values.yaml"]


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: dict = field(hash=False)
    ports: dict = field(default_factory=dict, hash=False)  # container port name -> number

    @property
    def namespace_labels(self) -> dict:
        return {"kubernetes.io/metadata.name": self.namespace}


@dataclass(frozen=True)
class Address:
    """Something outside the pod network: a managed database, the API server, the internet."""

    ip: str


def pod_metadata(owner: dict) -> dict:
    if owner["kind"] == "Pod":
        return owner["metadata"]
    if owner["kind"] == "CronJob":
        return owner["spec"]["jobTemplate"]["spec"]["template"]["metadata"]
    return owner["spec"]["template"]["metadata"]


def chart_pods(objects) -> dict[str, Pod]:
    """The release's pods, one per workload, keyed by the workload's kind/name."""
    pods = {}
    for owner, spec in pod_specs(objects):
        ports = {p["name"]: p["containerPort"] for c in spec["containers"] for p in c.get("ports", []) if "name" in p}
        key = f"{owner['kind']}/{owner['metadata']['name']}"
        pods[key] = Pod(key, NAMESPACE, pod_metadata(owner)["labels"], ports)
    return pods


CHART_LABELS = {"app.kubernetes.io/name": "jiwoo", "app.kubernetes.io/instance": "jiwoo"}
NEIGHBOURS = {
    "coredns": Pod("coredns", "kube-system", {"k8s-app": "kube-dns"}, {"dns": 53}),
    "app routing": Pod("app routing", "app-routing-system", {"app": "nginx"}),
    "ingress-nginx": Pod("ingress-nginx", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
    "collector": Pod("collector", "monitoring", {"app": "otel-collector"}, {"otlp-http": 4318, "otlp-grpc": 4317}),
    "loki": Pod("loki", "monitoring", {"app": "loki"}, {"http": 3100}),
    "neighbour": Pod("neighbour", NAMESPACE, {"app": "something-else"}),
    "stranger": Pod("stranger", "elsewhere", {}),
    # Another namespace's pod with the chart's labels (another release, or a forgery).
    "impostor": Pod("impostor", "elsewhere", CHART_LABELS | {"app.kubernetes.io/component": "web"}),
}
AZURE_DATABASE = Address("10.224.8.4")
AZURE_REDIS = Address("10.224.9.4")
API_SERVER = Address("20.50.60.70")
INTERNET = Address("203.0.113.10")


def selects(selector: dict | None, labels: dict) -> bool:
    if selector is None:
        return True
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def peer_matches(peer: dict, policy_namespace: str, endpoint) -> bool:
    if "ipBlock" in peer:
        if not isinstance(endpoint, Address):
            return False
        address = ipaddress.ip_address(endpoint.ip)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except", [])
        )
    if isinstance(endpoint, Address):
        return False
    if "namespaceSelector" in peer:
        in_namespace = selects(peer["namespaceSelector"], endpoint.namespace_labels)
    else:
        in_namespace = endpoint.namespace == policy_namespace
    return in_namespace and selects(peer.get("podSelector"), endpoint.labels)


def port_matches(rule: dict, destination, port: int, protocol: str) -> bool:
    if not rule.get("ports"):
        return True
    for entry in rule["ports"]:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            wanted = destination.ports.get(wanted) if isinstance(destination, Pod) else None
        if wanted is not None and wanted <= port <= entry.get("endPort", wanted):
            return True
    return False


def policy_types(policy: dict) -> list[str]:
    spec = policy["spec"]
    return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))


def guarding(policies, pod: Pod, direction: str) -> list[dict]:
    return [
        p
        for p in policies
        if p["metadata"].get("namespace", NAMESPACE) == pod.namespace
        and selects(p["spec"]["podSelector"], pod.labels)
        and direction in policy_types(p)
    ]


def allowed(policies, source, destination, port: int, protocol: str = "TCP") -> bool:
    egress = guarding(policies, source, "Egress") if isinstance(source, Pod) else []
    if egress and not any(
        (not rule.get("to") or any(peer_matches(peer, source.namespace, destination) for peer in rule["to"]))
        and port_matches(rule, destination, port, protocol)
        for policy in egress
        for rule in policy["spec"].get("egress") or []
    ):
        return False
    if isinstance(destination, Pod) and (ingress := guarding(policies, destination, "Ingress")):
        return any(
            (not rule.get("from") or any(peer_matches(peer, destination.namespace, source) for peer in rule["from"]))
            and port_matches(rule, destination, port, protocol)
            for policy in ingress
            for rule in policy["spec"].get("ingress") or []
        )
    return True


def cluster(value_set: str):
    objects = render_set(value_set)
    return find(objects, "NetworkPolicy"), chart_pods(objects) | NEIGHBOURS


def test_policies_are_off_by_default_and_the_model_lets_everything_through_then():
    objects = render({})
    pods = chart_pods(objects)

    assert not find(objects, "NetworkPolicy")
    assert allowed([], NEIGHBOURS["stranger"], pods["StatefulSet/jiwoo-postgresql"], 5432)


@pytest.mark.parametrize("value_set", POLICY_SETS)
def test_each_policy_guards_exactly_the_pods_it_is_named_for_and_every_pod_is_guarded(value_set):
    objects = render_set(value_set)
    pods = chart_pods(objects)
    policies = find(objects, "NetworkPolicy")
    meant_for = {
        "jiwoo-web": "Deployment/jiwoo",
        "jiwoo-clearsessions": "CronJob/jiwoo-clearsessions",
        "jiwoo-postgresql": "StatefulSet/jiwoo-postgresql",
        "jiwoo-redis": "Deployment/jiwoo-redis",
        "jiwoo-promtail": "DaemonSet/jiwoo-promtail",
        "jiwoo-alloy": "DaemonSet/jiwoo-alloy",
        "jiwoo-test": "Pod/jiwoo-test",
    }

    for policy in policies:
        selected = {key for key, pod in pods.items() if selects(policy["spec"]["podSelector"], pod.labels)}
        assert selected == {meant_for[policy["metadata"]["name"]]}, policy["metadata"]["name"]
        assert set(policy_types(policy)) == {"Ingress", "Egress"}, policy["metadata"]["name"]
    for key, pod in pods.items():
        assert len([p for p in policies if selects(p["spec"]["podSelector"], pod.labels)]) == 1, key
    for neighbour in NEIGHBOURS.values():
        assert not guarding(policies, neighbour, "Ingress"), neighbour.name


# (source, destination, port, protocol) that must get through with the in-chart services.
IN_CHART_MUST = [
    ("Deployment/jiwoo", "StatefulSet/jiwoo-postgresql", 5432, "TCP"),  # web, and its migrate init container
    ("Deployment/jiwoo", "Deployment/jiwoo-redis", 6379, "TCP"),
    ("CronJob/jiwoo-clearsessions", "StatefulSet/jiwoo-postgresql", 5432, "TCP"),
    ("CronJob/jiwoo-clearsessions", "Deployment/jiwoo-redis", 6379, "TCP"),
    ("Deployment/jiwoo", "coredns", 53, "UDP"),
    ("Deployment/jiwoo", "coredns", 53, "TCP"),
    ("CronJob/jiwoo-clearsessions", "coredns", 53, "UDP"),
    ("Deployment/jiwoo", "collector", 4318, "TCP"),
    ("ingress-nginx", "Deployment/jiwoo", 8000, "TCP"),
    ("neighbour", "Deployment/jiwoo", 8000, "TCP"),
    ("Pod/jiwoo-test", "coredns", 53, "UDP"),
    ("Pod/jiwoo-test", "Deployment/jiwoo", 8000, "TCP"),
    ("DaemonSet/jiwoo-promtail", "coredns", 53, "UDP"),
    ("DaemonSet/jiwoo-promtail", "loki", 3100, "TCP"),
    ("DaemonSet/jiwoo-promtail", API_SERVER, 443, "TCP"),
]
IN_CHART_MUST_NOT = [
    ("stranger", "StatefulSet/jiwoo-postgresql", 5432, "TCP"),
    ("impostor", "StatefulSet/jiwoo-postgresql", 5432, "TCP"),
    ("neighbour", "StatefulSet/jiwoo-postgresql", 5432, "TCP"),
    ("neighbour", "Deployment/jiwoo-redis", 6379, "TCP"),
    ("ingress-nginx", "StatefulSet/jiwoo-postgresql", 5432, "TCP"),
    ("Pod/jiwoo-test", "StatefulSet/jiwoo-postgresql", 5432, "TCP"),
    ("Pod/jiwoo-test", "Deployment/jiwoo-redis", 6379, "TCP"),
    ("DaemonSet/jiwoo-promtail", "StatefulSet/jiwoo-postgresql", 5432, "TCP"),
    ("Deployment/jiwoo-redis", "StatefulSet/jiwoo-postgresql", 5432, "TCP"),
    ("StatefulSet/jiwoo-postgresql", INTERNET, 443, "TCP"),
    ("Deployment/jiwoo-redis", "coredns", 53, "UDP"),
    ("stranger", "Deployment/jiwoo", 8000, "TCP"),
    ("app routing", "Deployment/jiwoo", 8000, "TCP"),  # not named in this set
    ("ingress-nginx", "Deployment/jiwoo", 9000, "TCP"),
    ("Deployment/jiwoo", INTERNET, 443, "TCP"),
    ("Deployment/jiwoo", "stranger", 8080, "TCP"),
    ("Deployment/jiwoo", "loki", 3100, "TCP"),
    ("stranger", "DaemonSet/jiwoo-promtail", 3101, "TCP"),
    ("stranger", "Pod/jiwoo-test", 8000, "TCP"),
]


def endpoint(pods, name):
    return pods[name] if isinstance(name, str) else name


@pytest.mark.parametrize(("source", "destination", "port", "protocol"), IN_CHART_MUST)
def test_with_the_in_chart_services_what_the_app_needs_gets_through(source, destination, port, protocol):
    policies, pods = cluster("network-policy-values.yaml")

    assert allowed(policies, endpoint(pods, source), endpoint(pods, destination), port, protocol)


@pytest.mark.parametrize(("source", "destination", "port", "protocol"), IN_CHART_MUST_NOT)
def test_with_the_in_chart_services_nothing_else_does(source, destination, port, protocol):
    policies, pods = cluster("network-policy-values.yaml")

    assert not allowed(policies, endpoint(pods, source), endpoint(pods, destination), port, protocol)


AZURE_MUST = [
    ("Deployment/jiwoo", AZURE_DATABASE, 6432, "TCP"),  # the pooler
    ("Deployment/jiwoo", AZURE_DATABASE, 5432, "TCP"),  # the direct road of the migrate init container
    ("CronJob/jiwoo-clearsessions", AZURE_DATABASE, 6432, "TCP"),
    ("Deployment/jiwoo", AZURE_REDIS, 6380, "TCP"),
    ("Deployment/jiwoo", "coredns", 53, "UDP"),
    ("Deployment/jiwoo", "collector", 4318, "TCP"),
    ("app routing", "Deployment/jiwoo", 8000, "TCP"),
    ("Pod/jiwoo-test", "Deployment/jiwoo", 8000, "TCP"),
    ("DaemonSet/jiwoo-alloy", "loki", 3100, "TCP"),
    ("DaemonSet/jiwoo-alloy", API_SERVER, 443, "TCP"),
]
AZURE_MUST_NOT = [
    ("Deployment/jiwoo", Address("10.224.10.4"), 5432, "TCP"),  # not the database's subnet
    ("Deployment/jiwoo", AZURE_DATABASE, 22, "TCP"),
    ("Deployment/jiwoo", AZURE_REDIS, 6379, "TCP"),  # Azure's plain-text port is not asked for
    ("Deployment/jiwoo", INTERNET, 443, "TCP"),
    ("Pod/jiwoo-test", AZURE_DATABASE, 6432, "TCP"),
    ("DaemonSet/jiwoo-alloy", AZURE_DATABASE, 5432, "TCP"),
    ("ingress-nginx", "Deployment/jiwoo", 8000, "TCP"),  # only app routing's namespace is named
    ("stranger", "Deployment/jiwoo", 8000, "TCP"),
]


@pytest.mark.parametrize(("source", "destination", "port", "protocol"), AZURE_MUST)
def test_on_azure_the_app_reaches_its_managed_services_through_the_policies(source, destination, port, protocol):
    policies, pods = cluster("azure-values.yaml")

    assert allowed(policies, endpoint(pods, source), endpoint(pods, destination), port, protocol)


@pytest.mark.parametrize(("source", "destination", "port", "protocol"), AZURE_MUST_NOT)
def test_on_azure_nothing_else_gets_through(source, destination, port, protocol):
    policies, pods = cluster("azure-values.yaml")

    assert not allowed(policies, endpoint(pods, source), endpoint(pods, destination), port, protocol)


def test_without_a_destination_an_external_service_is_reached_on_its_ports_only():
    values = load_values("azure-values.yaml")
    values["networkPolicy"]["egress"]["database"] = {"ports": [6432]}
    objects = render(values)
    policies, web = find(objects, "NetworkPolicy"), chart_pods(objects)["Deployment/jiwoo"]

    assert allowed(policies, web, Address("10.99.0.1"), 6432)
    assert not allowed(policies, web, Address("10.99.0.1"), 5432)


def test_telemetry_egress_is_there_only_when_something_is_exported():
    values = load_values("network-policy-values.yaml") | {"telemetry": {"otlpEndpoint": ""}}
    objects = render(values)
    policies, pods = find(objects, "NetworkPolicy"), chart_pods(objects) | NEIGHBOURS

    assert not allowed(policies, pods["Deployment/jiwoo"], pods["collector"], 4318)


def test_extra_ingress_peers_and_egress_rules_are_added():
    values = load_values("network-policy-values.yaml")
    smtp = {"to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}], "ports": [{"port": 587}]}
    values["networkPolicy"]["extraIngressFrom"] = [{"ipBlock": {"cidr": "10.225.0.0/24"}}]
    values["networkPolicy"]["egress"]["extra"] = [smtp]
    objects = render(values)
    policies, web = find(objects, "NetworkPolicy"), chart_pods(objects)["Deployment/jiwoo"]

    assert allowed(policies, Address("10.225.0.7"), web, 8000)  # Application Gateway's subnet
    assert allowed(policies, web, Address("192.0.2.25"), 587)
    assert not allowed(policies, web, Address("192.0.2.25"), 25)


def test_with_the_ingress_on_and_no_namespace_for_its_controller_the_chart_says_what_to_set():
    values = {"networkPolicy": {"enabled": True}, "ingress": {"enabled": True}}

    with pytest.raises(helm.HelmError, match=r"networkPolicy\.ingressNamespaces") as failure:
        render(values)
    assert "app-routing-system" in str(failure.value)
    assert "ingress-nginx" in str(failure.value)
    assert find(render({"networkPolicy": {"enabled": True}}), "NetworkPolicy")  # no Ingress: nothing to name


def test_the_schema_refuses_bad_policy_values():
    chart = helm.Chart.load(CHART_DIR)
    chart.validate_schema(load_values("network-policy-values.yaml"))

    for bad in (
        {"networkPolicy": {"enabeld": True}},
        {"networkPolicy": {"ingressNamespaces": ["Not_A_Namespace"]}},
        {"networkPolicy": {"ingressNamespaces": "ingress-nginx"}},
        {"networkPolicy": {"egress": {"database": {"ports": [0]}}}},
        {"networkPolicy": {"egress": {"database": {"ports": ["5432"]}}}},
        {"networkPolicy": {"egress": {"redis": {"to": [{"ipBlock": {}}]}}}},
        {"networkPolicy": {"egress": {"redis": {"to": [{}]}}}},
        {"networkPolicy": {"egress": {"dns": []}}},
        {"networkPolicy": {"egress": {"smtp": {"ports": [25]}}}},
    ):
        with pytest.raises(helm.HelmValuesError):
            chart.validate_schema(bad)


def test_the_model_itself_tells_a_namespace_apart_and_reads_named_ports():
    """The checker must be able to fail: a policy that admits any namespace is caught."""
    database = Pod("db", NAMESPACE, {"role": "db"}, {"postgresql": 5432})
    open_policy = {
        "metadata": {"name": "open"},
        "spec": {
            "podSelector": {"matchLabels": {"role": "db"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": "postgresql"}]}],
        },
    }
    same_namespace = dict(open_policy, spec=open_policy["spec"] | {"ingress": [{"from": [{"podSelector": {}}]}]})

    assert allowed([open_policy], NEIGHBOURS["stranger"], database, 5432)
    assert not allowed([open_policy], NEIGHBOURS["stranger"], database, 5433)
    assert not allowed([same_namespace], NEIGHBOURS["stranger"], database, 5432)
    assert allowed([same_namespace], NEIGHBOURS["neighbour"], database, 5432)
