"""The message admin: search and filters."""

from http import HTTPStatus

import pytest

from messages_app.services import message_create

pytestmark = pytest.mark.django_db


def test_message_admin_searches_and_filters(admin_client, user, other_user):
    message_create(author=user, text="안녕하세요 jiwoo")
    message_create(author=other_user, text="something else")

    response = admin_client.get("/admin/messages_app/message/", {"q": "안녕"})

    assert response.status_code == HTTPStatus.OK
    assert [m.text for m in response.context["cl"].result_list] == ["안녕하세요 jiwoo"]
    assert admin_client.get("/admin/messages_app/message/", {"author__id__exact": other_user.pk}).status_code == 200
