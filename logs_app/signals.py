"""A deleted user's own recent-activity list goes with them."""

from functools import partial

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from logs_app.store import user_activity_delete


@receiver(post_delete, sender=get_user_model())
def on_user_deleted(sender, instance, **kwargs) -> None:
    # Once the deletion is committed: a rolled-back one keeps the user and their list.
    transaction.on_commit(partial(user_activity_delete, instance.pk))
