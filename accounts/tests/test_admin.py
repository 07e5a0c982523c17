from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model

from messages_app.services import message_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    admin = get_user_model().objects.create_superuser("root", password="x-admin-Passw0rd")
    client.force_login(admin)
    return client


def test_user_admin_lists_message_counts(admin_client_, user):
    message_create(author=user, text="one")
    message_create(author=user, text="two")

    response = admin_client_.get("/admin/auth/user/")

    assert response.status_code == HTTPStatus.OK
    row = next(obj for obj in response.context["cl"].result_list if obj.username == user.username)
    assert row.message_count == 2


def test_message_admin_searches_and_filters(admin_client_, user, other_user):
    message_create(author=user, text="안녕하세요 jiwoo")
    message_create(author=other_user, text="something else")

    response = admin_client_.get("/admin/messages_app/message/", {"q": "안녕"})

    assert response.status_code == HTTPStatus.OK
    assert [m.text for m in response.context["cl"].result_list] == ["안녕하세요 jiwoo"]
    assert admin_client_.get("/admin/messages_app/message/", {"author__id__exact": other_user.pk}).status_code == 200
