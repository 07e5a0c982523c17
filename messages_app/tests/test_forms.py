"""The compose box and the search box: what they take and what they refuse."""

import pytest

from messages_app.forms import MessageForm, SearchForm
from messages_app.models import MAX_SEARCH_WORDS, MAX_TEXT_LENGTH


def test_the_search_form_refuses_more_than_the_word_limit_and_says_so():
    many = " ".join(f"w{number}" for number in range(MAX_SEARCH_WORDS + 1))

    form = SearchForm({"q": many})

    assert not form.is_valid()
    assert f"at most {MAX_SEARCH_WORDS} different words" in form.errors["q"][0]
    assert SearchForm({"q": " ".join(["e", "el", "ell"] * 22)}).is_valid()


@pytest.mark.parametrize("text", ["  hello \n", "", "x" * (MAX_TEXT_LENGTH + 1)])
def test_the_compose_box_only_reads_the_text(text):
    """message_create validates it, once, for the page and the API alike."""
    form = MessageForm({"text": text})

    assert form.is_valid()
    assert form.cleaned_data["text"] == text.strip()
