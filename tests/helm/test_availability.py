"""High availability by default: web pods spread over zones and nodes, a disruption budget with two pods."""

import helm_python as helm
import kubernetes_validate
import pytest

from tests.helm.chart import CHART_DIR, find, one, pod_labels, pod_spec, pod_specs, render


def test_web_pods_spread_softly_over_zones_and_nodes_by_default():
    objects = render({})
    deployment = one(objects, "Deployment", "jiwoo")
    constraints = pod_spec(deployment)["topologySpreadConstraints"]

    assert [c["topologyKey"] for c in constraints] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    for constraint in constraints:
        assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"  # a one-zone cluster still schedules
        assert constraint["maxSkew"] == 1
        assert constraint["matchLabelKeys"] == ["pod-template-hash"]
        selector = constraint["labelSelector"]["matchLabels"]
        # It counts the web pods, and no other pod of the release.
        assert selector.items() <= pod_labels(deployment).items()
        for owner, _ in pod_specs(objects):
            if owner is not deployment and owner["kind"] != "Pod" and owner["kind"] != "CronJob":
                assert not selector.items() <= pod_labels(owner).items(), owner["metadata"]["name"]
    kubernetes_validate.validate(deployment, "1.30.0", strict=True)


def test_an_empty_list_switches_spreading_off_and_a_given_selector_is_kept():
    assert "topologySpreadConstraints" not in pod_spec(
        one(render({"topologySpreadConstraints": []}), "Deployment", "jiwoo")
    )

    own = {
        "maxSkew": 2,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"team": "web"}},
        "matchLabelKeys": [],
    }
    (constraint,) = pod_spec(one(render({"topologySpreadConstraints": [own]}), "Deployment", "jiwoo"))[
        "topologySpreadConstraints"
    ]
    assert constraint == own


@pytest.mark.parametrize(
    ("values", "budget"),
    [
        ({}, True),  # replicaCount 2
        ({"replicaCount": 1}, False),
        ({"replicaCount": 3}, True),
        ({"autoscaling": {"enabled": True, "minReplicas": 1}}, False),
        ({"autoscaling": {"enabled": True, "minReplicas": 2}}, True),
        ({"podDisruptionBudget": {"enabled": False}}, False),
    ],
)
def test_the_disruption_budget_is_on_by_default_whenever_two_pods_or_more_run(values, budget):
    budgets = find(render(values), "PodDisruptionBudget")

    assert bool(budgets) is budget
    if budget:
        assert budgets[0]["spec"]["maxUnavailable"] == 1
        # A pod that is not ready never blocks a node drain.
        assert budgets[0]["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_the_schema_refuses_a_spread_it_could_not_apply():
    chart = helm.Chart.load(CHART_DIR)
    good = {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule"}
    chart.validate_schema({"topologySpreadConstraints": [good, good | {"minDomains": 3, "matchLabelKeys": []}]})

    for bad in (
        {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname"}]},
        {"topologySpreadConstraints": [{"maxSkew": 0, "topologyKey": "x", "whenUnsatisfiable": "ScheduleAnyway"}]},
        {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "x", "whenUnsatisfiable": "Maybe"}]},
        {
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "x", "whenUnsatisfiable": "ScheduleAnyway", "zone": "1"}
            ]
        },
        {"topologySpreadConstraints": {"maxSkew": 1}},
    ):
        with pytest.raises(helm.HelmValuesError):
            chart.validate_schema(bad)
