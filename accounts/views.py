"""Sign-up; log-in and log-out are Django's own views with our templates."""

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import SignUpForm
from jiwoo import events


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def signup(request):
    if request.user.is_authenticated:
        return redirect("messages:list")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        events.emit(request, "user.signup", "user signed up", user=user.get_username())
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        # The log-in just now was part of the sign-up: that is the event this request stands for.
        request.event_name = "user.signup"
        messages.success(request, _("Welcome to jiwoo, %(username)s!") % {"username": user.get_username()})
        return redirect("messages:list")
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)
