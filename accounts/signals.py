"""Log-in, log-out and failed log-in as events, whichever view caused them (pages or admin)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.lockout import axes_username, username_for_records
from accounts.metrics import logins
from observability import events
from observability.context import bind_user


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs) -> None:
    bind_user(request)
    logins.add(1, {"outcome": "success"})
    events.emit("user.login", "user logged in")


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs) -> None:
    events.emit("user.logout", "user logged out")


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already replaced the password in `credentials`; only the username is used,
    # and only when it names an account (a password typed into the username box is not logged).
    logins.add(1, {"outcome": "failure"})
    raw = str(credentials.get("username", ""))
    events.emit(
        "user.login_failed",
        "log-in failed",
        username_tried=axes_username(request, credentials) if request is not None else username_for_records(raw),
        # django-axes marks the request when this username and address are locked out.
        locked_out=bool(getattr(request, "axes_locked_out", False)),
    )
