"""The recent-activity API: at most the limit asked for, newest first, whatever limit arrives."""

from http import HTTPStatus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("limit", ["0", "201", "-5", "ten"])
def test_bad_limit_is_400(alice_client, limit):
    response = alice_client.get("/api/logs/recent", {"limit": limit})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "limit" in response.json()["error"]


def test_limit_is_honoured_newest_first(alice_client):
    for number in range(3):
        alice_client.get("/messages/", {"page": number + 1})

    results = alice_client.get("/api/logs/recent", {"limit": 2}).json()["results"]

    assert len(results) == 2
    assert results[0]["path"] == "/messages/"


# Property-based: whatever limit arrives, a 200 or a 400.

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
query_values = st.text(max_size=40) | st.integers(min_value=-(10**25), max_value=10**25).map(str)


@EXAMPLES
@given(limit=query_values)
def test_any_limit_answers_200_or_400(alice_client, limit):
    response = alice_client.get("/api/logs/recent", {"limit": limit})

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
