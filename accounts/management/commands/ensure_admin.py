"""Create the superuser named in DJANGO_SUPERUSER_USERNAME once; never change an existing user.

The password comes from DJANGO_SUPERUSER_PASSWORD or the file DJANGO_SUPERUSER_PASSWORD_FILE names.

The chart's migrate init container (manage.py migrate_locked) runs this on every install and upgrade, so it must be
idempotent: a second run, or a run after the admin changed their password, does nothing.
"""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.environment import secret


class Command(BaseCommand):
    help = "Create the superuser from DJANGO_SUPERUSER_USERNAME/PASSWORD/EMAIL unless it exists."

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip()
        password = secret("DJANGO_SUPERUSER_PASSWORD")
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "").strip()
        if not username or not password:
            raise CommandError(
                "Set DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD (or DJANGO_SUPERUSER_PASSWORD_FILE)."
            )
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Superuser {username!r} already exists; left unchanged.")
            return
        User.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write(f"Superuser {username!r} created.")
