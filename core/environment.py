"""Reading the environment, with credentials also from files.

Kubernetes Secrets and Azure Key Vault's CSI driver hand credentials to a pod as files. As the
official images do, ``NAME_FILE`` names a file whose content is the value of ``NAME``;
django-environ's ``FileAwareMapping`` reads it. Two rules are added: a value and its file
together is a start-up error (which one would win is a guess nobody should have to make), and
the file's last line break is not part of the value (``echo secret > file`` and ``kubectl create
secret --from-file`` leave one).
"""

import os
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured

DEFAULT_SERVICE_NAME = "jiwoo"


class SecretFiles(environ.FileAwareMapping):
    """os.environ, where ``NAME_FILE`` stands in for ``NAME``."""

    def __getitem__(self, key):
        file_key = f"{key}_FILE"
        if not self.env.get(file_key):
            return self.env[key]
        if key in self.env:
            raise ImproperlyConfigured(f"Both {key} and {file_key} are set: set only one of them.")
        try:
            value = super().__getitem__(key)
        except OSError as exc:
            raise ImproperlyConfigured(f"{file_key} names a file that cannot be read ({exc.strerror}).") from None
        value = value.removesuffix("\n").removesuffix("\r")
        if not value:
            raise ImproperlyConfigured(f"{file_key} names an empty file: it should hold {key}.")
        return value


class Env(environ.Env):
    """django-environ's ``Env``, where every variable may come from its ``_FILE``."""

    # Read afresh each time: settings read each variable once, and tests change them.
    ENVIRON = SecretFiles(cache=False)


env = Env()


def secret(name: str, default: str = "") -> str:
    """A credential exactly as given, from ``name`` or the file ``name_FILE`` names.

    Not through ``env.str``: django-environ reads a value that starts with ``$`` as the name of
    another variable, and a password may well start with one.
    """
    try:
        return Env.ENVIRON[name]
    except KeyError:
        return default


def service_name() -> str:
    """The OpenTelemetry service.name, as its specification orders the variables: OTEL_SERVICE_NAME,
    then service.name in OTEL_RESOURCE_ATTRIBUTES, then "jiwoo". Every log line carries it."""
    name = os.environ.get("OTEL_SERVICE_NAME", "").strip()
    if name:
        return name
    for item in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, _, value = item.partition("=")
        if key.strip() == "service.name" and value.strip():
            return unquote(value.strip())
    return DEFAULT_SERVICE_NAME
