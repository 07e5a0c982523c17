"""Fixtures shared by the accounts tests."""

import pytest


@pytest.fixture
def sign_up():
    """Post the sign-up form with the password twice: sign_up(client, username, password)."""

    def post(client, username, password):
        return client.post("/accounts/signup/", {"username": username, "password1": password, "password2": password})

    return post
