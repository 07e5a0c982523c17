from confusable_homoglyphs import confusables
from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import PasswordChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.limits import password_checks
from observability import events


def validate_confusables(value: str) -> None:
    """Refuse a username that mixes scripts with look-alike letters (a Cyrillic a in alice).

    django-registration's rule: mixing scripts is fine (김민준abc); mixing them with characters
    that look like another script's letters is not.
    """
    if confusables.is_dangerous(value):
        raise forms.ValidationError(
            _("This username mixes alphabets with look-alike letters; use letters of one alphabet."),
            code="confusable",
        )


class LookAlikesRefused:
    """For a form of Django's that makes a user: its username check, then validate_confusables."""

    def clean_username(self) -> str:
        username = super().clean_username()  # None when taken: that error is already recorded
        if username:
            validate_confusables(username)
        return username


class SignUpForm(LookAlikesRefused, UserCreationForm):
    """Username and the password twice, checked by Django's password validators."""

    class Meta(UserCreationForm.Meta):
        fields = ["username"]


class AdminUserCreationForm(LookAlikesRefused, auth_forms.AdminUserCreationForm):
    """The admin's "add user": the sign-up's rule on look-alike letters too."""


class AdminUserChangeForm(auth_forms.UserChangeForm):
    """The admin's user form: a new name follows the sign-up's rules, one account per name in
    any case (the database holds that too, accounts/migrations) and no look-alike letters."""

    def clean_username(self) -> str:
        username = self.cleaned_data.get("username")
        if username:
            users = type(self.instance).objects.filter(username__iexact=username).exclude(pk=self.instance.pk)
            if users.exists():
                raise forms.ValidationError(self.instance.unique_error_message(type(self.instance), ["username"]))
            validate_confusables(username)
        return username


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Django's form, with at most PASSWORD_CHANGE_FAILURE_LIMIT wrong old passwords per cool-off.

    The old-password check is a log-in by another door: without a limit a stolen session
    could guess the password it protects. Each wrong guess and the lock are events.
    """

    def clean_old_password(self) -> str:
        # Each check claims a place first, so guesses sent together cannot all be checked; a
        # right password gives its place back.
        key = str(self.user.pk)
        if not password_checks.take(key, settings.PASSWORD_CHANGE_FAILURE_LIMIT):
            events.emit("user.password_change_locked", "password change refused: too many wrong passwords")
            raise forms.ValidationError(
                _("Too many wrong passwords: try again in %(minutes)s minutes."),
                code="password_locked",
                params={"minutes": password_checks.seconds // 60},
            )
        try:
            old_password = super().clean_old_password()
        except forms.ValidationError:
            events.emit("user.password_change_failed", "password change refused: wrong old password")
            raise
        password_checks.give_back(key)
        return old_password
