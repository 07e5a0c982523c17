import pytest
from django.core.exceptions import ValidationError

from messages_app.models import Message
from messages_app.selectors import message_list
from messages_app.services import message_create

pytestmark = pytest.mark.django_db


def test_create_trims_white_space(user):
    message = message_create(author=user, text="  hello  \n")

    assert message.text == "hello"
    assert Message.objects.get().text == "hello"


@pytest.mark.parametrize("text", ["", "   \n\t ", "x" * 2001])
def test_create_refuses_empty_or_too_long_text_and_saves_nothing(user, text):
    with pytest.raises(ValidationError):
        message_create(author=user, text=text)

    assert not Message.objects.exists()


def test_create_accepts_exactly_2000_characters(user):
    assert len(message_create(author=user, text="가" * 2000).text) == 2000


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


def test_list_is_newest_first_and_only_the_authors(user, other_user, corpus):
    texts = [m.text for m in message_list(author=user)]

    assert texts == list(reversed(corpus))
    assert "Hello world from bob" not in texts


def test_a_search_page_counts_its_matches_in_the_same_query(user, django_assert_num_queries):
    from messages_app.selectors import message_page

    for number in range(45):
        message_create(author=user, text=f"needle {number}" if number % 3 == 0 else f"hay {number}")

    with django_assert_num_queries(1):
        page = message_page(author=user, query="NEEDLE", number=2, size=10)
        assert page.paginator.count == 15
        assert page.paginator.num_pages == 2
        assert [m.text for m in page] == [f"needle {n}" for n in (12, 9, 6, 3, 0)]


@pytest.mark.parametrize("query", ["", "needle"])
def test_a_page_is_fetched_without_joining_its_author(user, query, django_assert_num_queries):
    from messages_app.selectors import message_page

    for number in range(25):
        message_create(author=user, text=f"needle {number}")

    with django_assert_num_queries(1 if query else 2) as queries:  # without a search, a COUNT too
        page = message_page(author=user, query=query, number=2, size=10, last_past_end=True)
        authors = {message.author.get_username() for message in page}

    assert authors == {user.get_username()}
    assert [m.text for m in page] == [f"needle {n}" for n in range(14, 4, -1)]
    assert all("auth_user" not in statement["sql"] for statement in queries.captured_queries)


def test_a_search_page_past_the_end_is_empty_page(user):
    from django.core.paginator import EmptyPage

    from messages_app.selectors import message_page

    message_create(author=user, text="needle")
    with pytest.raises(EmptyPage):
        message_page(author=user, query="needle", number=2, size=10)
    assert message_page(author=user, query="nothing", number=1, size=10).paginator.count == 0
