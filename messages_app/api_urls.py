from django.urls import path

from messages_app import api

app_name = "messages_api"

urlpatterns = [
    path("messages", api.messages_collection, name="collection"),
    path("messages/<int:pk>", api.message_detail, name="detail"),
]
