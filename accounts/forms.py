from django.contrib.auth.forms import UserCreationForm


class SignUpForm(UserCreationForm):
    """Username and the password twice, checked by Django's password validators."""

    class Meta(UserCreationForm.Meta):
        fields = ["username"]
