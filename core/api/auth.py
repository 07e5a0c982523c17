"""Who may call the API: Django's session, with the CSRF check on unsafe methods."""

from django.conf import settings
from ninja.errors import HttpError
from ninja.security import SessionAuth
from ninja.utils import check_csrf


class Session(SessionAuth):
    """The logged-in user's session cookie; unsafe methods also need the CSRF token in X-CSRFToken."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = (
        "Log in through the pages (/accounts/login/); send the session cookie, and on POST and DELETE "
        "the csrftoken cookie's value in the X-CSRFToken header."
    )


def anyone_with_csrf(request):
    """Anonymous callers allowed (the browser-traces relay), but unsafe methods still need the CSRF token.

    ninja's views are exempt from Django's CSRF middleware, so the check happens here.
    """
    if check_csrf(request):
        raise HttpError(403, "CSRF check failed")
    return True
