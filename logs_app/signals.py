"""What logs_app records, by subscription: each completed request as recent activity, and a
deleted user's own list deleted with them."""

import time
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from logs_app.store import activity_record, user_activity_delete
from observability.json_logging import format_timestamp
from observability.signals import request_completed


@receiver(request_completed)
def on_request_completed(sender, summary: dict, user_id: int | None, **kwargs) -> None:
    """The request middleware's summary, with its time and service, becomes an activity entry."""
    if settings.RECENT_ACTIVITY_ENABLED:
        entry = {"ts": format_timestamp(time.time()), **summary, "service_name": settings.SERVICE_NAME}
        activity_record(entry, user_id=user_id)


@receiver(post_delete, sender=get_user_model())
def on_user_deleted(sender, instance, **kwargs) -> None:
    # Once the deletion is committed: a rolled-back one keeps the user and their list.
    transaction.on_commit(partial(user_activity_delete, instance.pk))
