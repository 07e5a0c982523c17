"""Behind the Ingress each client keeps its own address: the app's rule, read through the rendered values.

The chart's ConfigMap gives DJANGO_TRUSTED_PROXIES; the app's own parser and client_address
(core.client, which django-axes also uses for log-in throttling) read it here.
"""

import pytest
from django.test import RequestFactory, override_settings

from core import client
from tests.helm.chart import load_values, one, render, render_set

INGRESS_POD = "10.244.3.17"  # an AKS pod address: the NGINX ingress controller's pod


def trusted_networks(setting: str) -> tuple:
    return client.trusted_networks(setting.split(","))


def client_address(peer: str, forwarded_for: str | None, networks) -> str:
    extra = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    with override_settings(TRUSTED_PROXIES=tuple(networks)):
        return client.client_address(RequestFactory().get("/", **extra))


def proxies(objects) -> str:
    return one(objects, "ConfigMap", "jiwoo")["data"]["DJANGO_TRUSTED_PROXIES"]


@pytest.fixture
def behind_ingress():
    """The trusted networks the chart renders with the Ingress on and trustedProxies left empty."""
    values = load_values("ingress-hpa-pdb-values.yaml")
    assert values["ingress"]["enabled"]
    assert not values.get("django", {}).get("trustedProxies")
    return trusted_networks(proxies(render_set("ingress-hpa-pdb-values.yaml")))


def test_the_real_client_counts_through_the_ingress(behind_ingress):
    assert client_address(INGRESS_POD, "203.0.113.9", behind_ingress) == "203.0.113.9"
    assert client_address("fd12:3456::17", "2001:db8::42", behind_ingress) == "2001:db8::42"


def test_two_clients_behind_one_ingress_are_told_apart(behind_ingress):
    first = client_address(INGRESS_POD, "203.0.113.9", behind_ingress)
    second = client_address(INGRESS_POD, "198.51.100.20", behind_ingress)

    assert first != second  # so five bad passwords from one never lock out the other


def test_a_forged_header_does_not_hide_the_client(behind_ingress):
    # The client sent "X-Forwarded-For: 198.51.100.1"; the ingress appended the real address.
    assert client_address(INGRESS_POD, "198.51.100.1, 203.0.113.9", behind_ingress) == "203.0.113.9"
    # A client reaching the pod directly cannot name an address at all.
    assert client_address("203.0.113.9", "198.51.100.1", behind_ingress) == "203.0.113.9"


def test_without_the_ingress_nothing_is_trusted():
    networks = trusted_networks(proxies(render_set("default-values.yaml")))

    assert networks == ()
    assert client_address(INGRESS_POD, "203.0.113.9", networks) == INGRESS_POD


def test_given_proxies_replace_the_default():
    values = load_values("ingress-hpa-pdb-values.yaml") | {"django": {"trustedProxies": ["10.244.0.0/16"]}}
    networks = trusted_networks(proxies(render(values)))

    assert [str(network) for network in networks] == ["10.244.0.0/16"]
    assert client_address(INGRESS_POD, "203.0.113.9", networks) == "203.0.113.9"
    assert client_address("10.1.0.5", "203.0.113.9", networks) == "10.1.0.5"
