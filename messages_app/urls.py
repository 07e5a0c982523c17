from django.urls import path

from messages_app import views

app_name = "messages"

urlpatterns = [
    path("", views.message_list_page, name="list"),
    path("<int:pk>/delete/", views.message_delete_view, name="delete"),
]
