"""jiwoo's configuration: settings, URLs, the WSGI entry point and gunicorn's settings."""
