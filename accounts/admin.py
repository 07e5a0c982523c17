from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count

from accounts.forms import AdminUserChangeForm, AdminUserCreationForm

User = get_user_model()

admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, with each user's message count and activity dates; names follow the
    sign-up's rules."""

    form = AdminUserChangeForm
    add_form = AdminUserCreationForm

    list_display = ["username", "is_staff", "is_active", "message_count", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "date_joined"]
    date_hierarchy = "date_joined"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(message_count=Count("messages"))

    @admin.display(description="messages", ordering="message_count")
    def message_count(self, obj) -> int:
        return obj.message_count
