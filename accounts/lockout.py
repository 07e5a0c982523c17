"""django-axes, configured for password spraying and for usernames that are really passwords.

``AxesHandler`` gives each lockout parameter group of ``AXES_LOCKOUT_PARAMETERS`` its own limit:
``AXES_FAILURE_LIMIT`` for one username from one address, ``AXES_ADDRESS_FAILURE_LIMIT`` for
one address whatever the usernames. ``username_for_records`` is what the attempts table and
the ``user.login_failed`` event keep of the username tried.
"""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils.crypto import salted_hmac

PAIR, ADDRESS = [["username", "ip_address"], "ip_address"]
# Of a string that is no username, this much is hashed: enough to tell tries apart.
MAX_HASHED = 1024


def username_for_records(raw: str) -> str:
    """The username tried, as logs and the attempts table keep it.

    When it names an account it is kept as it is: which accounts are attacked is what an
    operator needs to see. Anything else may be a password typed into the wrong box, so it is
    kept only as ``unknown:`` and a keyed hash (HMAC with the secret key): repeated tries of one
    string still count together and can be correlated, and nobody can read it back.
    """
    raw = str(raw)
    user_model = get_user_model()
    # Longer than any username: no account, whatever its first characters are.
    longest = user_model._meta.get_field(user_model.USERNAME_FIELD).max_length
    if raw and len(raw) <= longest and user_model.objects.filter(**{user_model.USERNAME_FIELD: raw}).exists():
        return raw
    return "unknown:" + salted_hmac("jiwoo.username_tried", raw[:MAX_HASHED]).hexdigest()[:16]


def axes_username(request, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username of the attempt, through ``username_for_records``.

    django-axes asks several times per log-in; the answer is remembered for the request.
    """
    raw = (credentials or {}).get("username") if credentials is not None else request.POST.get("username")
    if raw is None:
        return None
    remembered = request.__dict__.setdefault("_jiwoo_usernames_for_records", {})
    if raw not in remembered:
        remembered[raw] = username_for_records(raw)
    return remembered[raw]


class AxesHandler(AxesDatabaseHandler):
    """The database handler, with a limit per parameter group and a reset per username."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """Failures, scaled so that django-axes' one limit is reached when either group reaches its own.

        django-axes compares the largest group's count with AXES_FAILURE_LIMIT. The address
        count is scaled by AXES_FAILURE_LIMIT / AXES_ADDRESS_FAILURE_LIMIT: with 5 and 30, 30
        failures from an address count as 5, 29 as 4.
        """
        assert settings.AXES_LOCKOUT_PARAMETERS == [PAIR, ADDRESS], "AxesHandler expects these two groups"
        pair, address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        return max(pair, address * settings.AXES_FAILURE_LIMIT // settings.AXES_ADDRESS_FAILURE_LIMIT)

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """After a successful log-in, forget that username's failures from this address only.

        The address's failures for other usernames stay: a sprayer who also owns an account
        must not clear their count by logging into it.
        """
        pair_attempts = self.filter_user_attempts(request, credentials)[0]
        count, _ = pair_attempts.delete()
        return count
