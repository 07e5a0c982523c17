"""Credentials that no render changes: what the chart does without `lookup` (Argo CD, helm template)."""

import base64

import helm_python as helm
import pytest

from tests.helm.chart import credential, find, load_values, one, pod_spec, render

CREDENTIAL_KINDS = {"Secret"}


def rendered_twice(values: dict) -> tuple[list, list]:
    return render(values), render(values)


def test_under_gitops_every_render_is_the_same():
    values = load_values("gitops-values.yaml")
    first, second = rendered_twice(values)

    assert first == second
    assert not find(first, "Secret")  # nothing generated: every credential is the operator's Secret


def test_under_gitops_the_pods_read_the_operators_secrets():
    objects = render(load_values("gitops-values.yaml"))
    spec = pod_spec(one(objects, "Deployment", "jiwoo"))
    web = spec["containers"][0]
    postgres_spec = pod_spec(one(objects, "StatefulSet", "jiwoo-postgresql"))

    assert credential(spec, web, "DJANGO_SECRET_KEY") == ("secret", "jiwoo-credentials", "secret-key")
    assert credential(spec, web, "DATABASE_PASSWORD") == ("secret", "jiwoo-credentials", "postgresql-password")
    assert credential(postgres_spec, postgres_spec["containers"][0], "POSTGRES_PASSWORD") == credential(
        spec, web, "DATABASE_PASSWORD"
    )
    assert credential(spec, web, "REDIS_PASSWORD") == ("secret", "jiwoo-credentials", "redis-password")


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"gitops": True}, ["secretKey.existingSecret", "postgresql.auth.existingSecret", "redis.auth.existingSecret"]),
        (
            {"gitops": True, "secretKey": {"existingSecret": "s"}, "redis": {"auth": {"enabled": False}}},
            ["postgresql.auth"],
        ),
        (
            {"gitops": True, "secretKey": {"existingSecret": "s"}, "postgresql": {"auth": {"password": "pw"}}},
            ["redis.auth"],
        ),
    ],
)
def test_under_gitops_a_credential_the_chart_would_generate_fails_with_what_to_set(values, named):
    with pytest.raises(helm.HelmError, match="gitops is true") as failure:
        render(values)

    for name in named:
        assert name in str(failure.value)


def test_under_gitops_explicit_passwords_are_stable_too():
    values = {
        "gitops": True,
        "secretKey": {"existingSecret": "jiwoo-credentials"},
        "postgresql": {"auth": {"password": "p@ss/word"}},
        "redis": {"auth": {"password": "k3y/+=="}},
    }
    first, second = rendered_twice(values)

    assert first == second
    assert base64.b64decode(one(first, "Secret", "jiwoo-postgresql")["data"]["password"]) == b"p@ss/word"
    assert base64.b64decode(one(first, "Secret", "jiwoo-redis")["data"]["redis-password"]) == b"k3y/+=="


def test_without_gitops_and_without_a_cluster_the_generated_key_changes_which_is_why_gitops_exists():
    first, second = rendered_twice({})

    assert one(first, "Secret", "jiwoo")["data"]["secret-key"] != one(second, "Secret", "jiwoo")["data"]["secret-key"]
