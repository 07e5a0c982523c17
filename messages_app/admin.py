from django.contrib import admin

from messages_app.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "author", "created_at"]
    list_filter = ["created_at", ("author", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["text", "author__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["author"]
    list_select_related = ["author"]
    readonly_fields = ["created_at"]
