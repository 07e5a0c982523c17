"""Fixtures shared by the API tests."""

from http import HTTPStatus

import pytest


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == HTTPStatus.OK
    return response.json()
