"""The chart renders, lints clean and passes the Kubernetes schemas for every value set in ci/."""

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.helm.chart import CHART_DIR, VALUE_SETS, load_values, render, render_set

KUBERNETES_VERSIONS = ["1.30.0", "1.31.0", "1.32.0", "1.33.0", "1.34.0", "1.35.0", "1.36.0", "1.37.0"]


def test_value_sets_exist():
    assert {
        "default-values.yaml",
        "external-services-values.yaml",
        "ingress-hpa-pdb-values.yaml",
        "alloy-values.yaml",
        "minimal-values.yaml",
        "empty-values.yaml",
        "gitops-values.yaml",
        "external-url-values.yaml",
        "azure-values.yaml",
        "network-policy-values.yaml",
    } <= set(VALUE_SETS)


def test_the_schema_checks_cover_every_kind_the_chart_can_make():
    """NetworkPolicy and the rest are off in some sets: some set in ci/ renders each kind."""
    kinds = {o["kind"] for value_set in VALUE_SETS for o in render_set(value_set)}

    assert {"NetworkPolicy", "PodDisruptionBudget", "CronJob", "DaemonSet", "StatefulSet", "Ingress"} <= kinds


def test_kubernetes_validate_ships_the_newest_schemas():
    assert kubernetes_validate.latest_version() == KUBERNETES_VERSIONS[-1]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_helm_lint_is_clean_in_strict_mode(value_set):
    report = helm.lint(CHART_DIR, load_values(value_set), strict=True, namespace="jiwoo")

    assert report["errors"] == []
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert problems == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_object_passes_the_kubernetes_schema_in_strict_mode(value_set, version):
    objects = render_set(value_set)
    assert objects

    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} against {version}: {exc.message} at {list(exc.path)}")


def test_the_readme_example_for_aks_renders_and_validates():
    values = yaml.safe_load((CHART_DIR.parent / "examples" / "aks-lgtm.yaml").read_text())
    helm.Chart.load(CHART_DIR).validate_schema(values)

    for obj in render(values):
        kubernetes_validate.validate(obj, KUBERNETES_VERSIONS[-1], strict=True)
