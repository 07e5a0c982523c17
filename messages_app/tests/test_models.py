"""The Message and its QuerySet: search matches every word, in any order, ignoring case."""

import pytest

from messages_app.models import search_words
from messages_app.selectors import message_list

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("서울", {"오늘 서울 날씨가 맑습니다"}),
        ("날씨 서울", {"오늘 서울 날씨가 맑습니다"}),
        ("hello world", {"Hello World from jiwoo", "world peace and HELLO again"}),
        ("WORLD hello", {"Hello World from jiwoo", "world peace and HELLO again"}),
        ("école", {"ÉCOLE d'été"}),
        ("🎉", {"emoji party 🎉 tonight"}),
        ("hello missing", set()),
        ("100%", set()),
        ("_", set()),
    ],
)
def test_search_matches_every_word_in_any_order_ignoring_case(user, corpus, query, expected):
    assert {m.text for m in message_list(author=user, query=query)} == expected


@pytest.mark.parametrize(
    ("query", "words"),
    [
        (" ".join(["e", "el", "ell"] * 22), ["ell"]),  # 66 words, one condition
        ("Hello HELLO hello", ["hello"]),
        ("ell hello", ["hello"]),
        ("서연 이서연 커피", ["이서연", "커피"]),
        ("a b", ["a", "b"]),
    ],
)
def test_repeated_and_contained_words_are_one_condition(query, words):
    assert search_words(query) == words
