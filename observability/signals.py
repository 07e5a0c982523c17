"""What the request middleware publishes, for recorders to subscribe to."""

from django.dispatch import Signal

# Sent once per request of the app's users (not for static files or the browser's telemetry),
# when its response is ready and its http.request line written, inside the request's span.
# Arguments: ``summary``, the http.request line's fields (method, path, route, status,
# duration_ms, user, event, trace_id), and ``user_id``, whose request it was (None: anonymous).
# logs_app records it as recent activity.
request_completed = Signal()
