from django.urls import path

from logs_app import api

app_name = "logs_api"

urlpatterns = [path("logs/recent", api.recent_activity, name="recent")]
