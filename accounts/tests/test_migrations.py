"""What the accounts migrations hold in the database: one account per username, in any case."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_database_holds_one_account_per_name_in_any_case(password):
    from django.contrib.auth.models import User
    from django.db import IntegrityError, transaction

    User.objects.create_user("alice", password=password)

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("ALICE", password=password)
