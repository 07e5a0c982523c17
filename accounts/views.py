"""Sign-up; log-in and log-out are Django's own views with our templates."""

from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.messages.views import SuccessMessageMixin
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import SignUpForm, ThrottledPasswordChangeForm
from accounts.limits import signups
from core.client import client_address
from core.errors import allow_methods
from observability import events


@allow_methods("GET", "HEAD", "POST")
@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def signup(request):
    if request.user.is_authenticated:
        return redirect("messages:list")
    form = SignUpForm(request.POST or None)
    address = client_address(request)
    if request.method == "POST" and (
        signups.exceeded(address, settings.SIGNUP_RATE_LIMIT)
        or (form.is_valid() and not signups.take(address, settings.SIGNUP_RATE_LIMIT))
    ):
        events.emit("user.signup_throttled", "sign-up refused: too many from this address")
        form.add_error(
            None,
            _("Too many accounts were created from your address in the last hour: try again later."),
        )
        return render(request, "accounts/signup.html", {"form": form}, status=HTTPStatus.TOO_MANY_REQUESTS)
    if request.method == "POST" and form.is_valid():
        user = _saved_or_none(form)
        if user is None:
            signups.give_back(address)
            return render(request, "accounts/signup.html", {"form": form}, status=HTTPStatus.BAD_REQUEST)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        # After the log-in's own event, so the request (its span, its activity entry) is the sign-up.
        events.emit("user.signup", "user signed up")
        messages.success(request, _("Welcome to jiwoo, %(username)s!") % {"username": user.get_username()})
        return redirect("messages:list")
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


def _saved_or_none(form: SignUpForm):
    """The new user; None, with the form's "already exists" error, when another request took
    the name (in any case) between the form's check and this insert."""
    try:
        with transaction.atomic():
            return form.save()
    except IntegrityError:
        form.add_error("username", form.instance.unique_error_message(type(form.instance), ["username"]))
        return None


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    """Django's password change (it keeps the user logged in), on our page, as an event."""

    template_name = "accounts/password_change.html"
    form_class = ThrottledPasswordChangeForm
    success_url = reverse_lazy("messages:list")
    success_message = gettext_lazy("Your password has been changed.")

    def form_valid(self, form):
        response = super().form_valid(form)
        events.emit("user.password_change", "password changed")
        return response
