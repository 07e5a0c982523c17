from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from core.errors import with_method_error_page

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    # Log-out is a POST (Django's view): a GET is the 405 page, not an empty answer.
    path("logout/", with_method_error_page(auth_views.LogoutView.as_view()), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
]
