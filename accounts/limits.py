"""The account pages' own limits, counted in Redis (core/throttle.py): sign-ups per client
address per hour, and wrong old passwords per user in the password-change form per
AXES_COOLOFF_TIME (SIGNUP_RATE_LIMIT, PASSWORD_CHANGE_FAILURE_LIMIT)."""

from django.conf import settings

from core.throttle import Throttle

signups = Throttle("signup", seconds=3600)
password_checks = Throttle("password-change", seconds=int(settings.AXES_COOLOFF_TIME.total_seconds()))
