"""jiwoo: a Django application that shows how an observable service is built."""

__version__ = "0.1.0"
