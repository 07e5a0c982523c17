"""The client address behind trusted proxies: in logs, activity, the throttles and log-in lockouts."""

import pytest
from django.test import RequestFactory

from core.client import client_address, trusted_networks

INGRESS_POD = "10.244.3.17"


@pytest.fixture
def behind_ingress(settings):
    settings.TRUSTED_PROXIES = trusted_networks(["10.0.0.0/8", "fc00::/7"])


def request_from(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_trusted_networks_take_addresses_and_cidrs():
    networks = trusted_networks(["10.0.0.0/8", " 192.168.1.7 ", "fc00::/7", ""])

    assert [str(n) for n in networks] == ["10.0.0.0/8", "192.168.1.7/32", "fc00::/7"]


def test_a_bad_trusted_proxy_value_fails_at_start():
    with pytest.raises(ValueError, match="not-an-address"):
        trusted_networks(["not-an-address"])


def test_behind_a_trusted_ingress_the_client_is_the_forwarded_address(behind_ingress):
    assert client_address(request_from(INGRESS_POD, "203.0.113.9")) == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_skipped_from_the_right(behind_ingress):
    assert client_address(request_from(INGRESS_POD, "198.51.100.4, 203.0.113.9, 10.1.2.3")) == "203.0.113.9"


def test_an_untrusted_peer_cannot_claim_an_address(behind_ingress):
    assert client_address(request_from("203.0.113.50", "198.51.100.1")) == "203.0.113.50"


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = ()

    assert client_address(request_from(INGRESS_POD, "203.0.113.9")) == INGRESS_POD


def test_garbage_in_the_header_falls_back_to_the_peer(behind_ingress):
    assert client_address(request_from(INGRESS_POD, "<script>")) == INGRESS_POD


@pytest.mark.django_db
def test_behind_the_ingress_one_client_cannot_lock_another_out(client, user, password, settings, behind_ingress):
    """Log-in throttling counts the real client: five failures from one leave the other free."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/login/",
            {"username": user.username, "password": "wrong-password"},
            REMOTE_ADDR=INGRESS_POD,
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )
    locked = client.post(
        "/accounts/login/",
        {"username": user.username, "password": password},
        REMOTE_ADDR=INGRESS_POD,
        HTTP_X_FORWARDED_FOR="203.0.113.66",
    )
    other = client.post(
        "/accounts/login/",
        {"username": user.username, "password": password},
        REMOTE_ADDR="10.244.1.5",  # another ingress pod, another client
        HTTP_X_FORWARDED_FOR="198.51.100.23",
    )

    assert locked.status_code == 429
    assert other.status_code == 302
