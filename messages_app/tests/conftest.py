"""Fixtures shared by the messages tests."""

import pytest

from messages_app.services import message_create


@pytest.fixture
def corpus(user, other_user):
    texts = [
        "오늘 서울 날씨가 맑습니다",
        "Hello World from jiwoo",
        "world peace and HELLO again",
        "ÉCOLE d'été",
        "emoji party 🎉 tonight",
        "nothing relevant",
    ]
    for text in texts:
        message_create(author=user, text=text)
    message_create(author=other_user, text="Hello world from bob")
    return texts
