"""Settings for the test suite: the real settings, a throwaway key and a Redis prefix of its own."""

import os
import uuid

os.environ.setdefault("DJANGO_SECRET_KEY", f"test-only-{uuid.uuid4().hex}")
# Tests share the real Redis at REDIS_URL; their keys carry a prefix of their own and are deleted after.
os.environ.setdefault("REDIS_KEY_PREFIX", f"jiwoo-test-{uuid.uuid4().hex[:12]}")

# The test client speaks plain HTTP; the HTTPS settings have a test of their own.
os.environ.setdefault("DJANGO_HTTPS", "false")

from jiwoo.settings import *  # noqa: F403

# In-process tests read Redis right after a request: write entries at once. (The tests that
# run gunicorn use the background writer, as production does.)
RECENT_ACTIVITY_BACKGROUND = False

# Hashing with MD5 keeps the many sign-ups and log-ins in the tests fast; never in production.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
