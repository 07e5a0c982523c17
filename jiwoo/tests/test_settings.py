"""The settings as a process computes them from its environment: credentials from files, and a
PostgreSQL connection that a transaction-mode pooler can carry."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

READ = (
    "import json, jiwoo.settings as s; d = s.DATABASES['default']; "
    "print(json.dumps({'secret_key': s.SECRET_KEY, 'engine': d['ENGINE'], 'options': d.get('OPTIONS', {}), "
    "'password': d.get('PASSWORD'), 'host': d.get('HOST'), 'atomic': d.get('ATOMIC_REQUESTS'), "
    "'no_cursors': d.get('DISABLE_SERVER_SIDE_CURSORS'), 'redis_url': s.REDIS_URL, "
    "'redis_password': s.REDIS_PASSWORD, 'cache_password': s.CACHES['default']['OPTIONS'].get('PASSWORD')}))"
)
CREDENTIALS = ("DJANGO_SECRET_KEY", "DATABASE_URL", "DATABASE_PASSWORD", "REDIS_URL", "REDIS_PASSWORD")


def settings_with(env: dict) -> subprocess.CompletedProcess:
    """Import the settings in a new process whose environment is ``env`` and no other credential."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(CREDENTIALS) and not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", READ], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def read(env: dict) -> dict:
    result = settings_with(env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_credential_may_come_from_a_file(tmp_path):
    files = {
        "DJANGO_SECRET_KEY": "key-from-a-file",
        "DATABASE_URL": "postgres://jiwoo@db.example:6432/jiwoo?sslmode=verify-full&sslrootcert=system",
        "DATABASE_PASSWORD": "$db pass/with:odd@chars",
        "REDIS_URL": "rediss://cache.example:6380/0",
        "REDIS_PASSWORD": "access+key/==",
    }
    for name, value in files.items():
        (tmp_path / name).write_text(value + "\n")  # as `kubectl create secret --from-file` may leave it

    settings = read({f"{name}_FILE": str(tmp_path / name) for name in files})

    assert settings["secret_key"] == "key-from-a-file"
    assert settings["host"] == "db.example"
    assert settings["options"]["sslmode"] == "verify-full"
    assert settings["options"]["sslrootcert"] == "system"
    assert settings["password"] == "$db pass/with:odd@chars"
    assert settings["redis_url"] == "rediss://cache.example:6380/0"
    assert settings["redis_password"] == settings["cache_password"] == "access+key/=="


def test_a_credential_and_its_file_together_stop_the_start(tmp_path):
    (tmp_path / "key").write_text("one")

    result = settings_with({"DJANGO_SECRET_KEY": "two", "DJANGO_SECRET_KEY_FILE": str(tmp_path / "key")})

    assert result.returncode != 0
    assert "Both DJANGO_SECRET_KEY and DJANGO_SECRET_KEY_FILE are set" in result.stderr


def test_without_a_secret_key_the_start_says_how_to_give_one():
    result = settings_with({})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY_FILE" in result.stderr


def test_postgresql_sets_nothing_for_the_session():
    """PgBouncer in transaction mode refuses the `options` startup parameter (and closes the
    connection); a server-side cursor and a view's statements outside one transaction could land
    on another server session."""
    settings = read({"DJANGO_SECRET_KEY": "x", "DATABASE_URL": "postgres://u@db.invalid:6432/x"})

    assert settings["engine"] == "core.postgresql"
    assert "options" not in settings["options"]
    assert settings["atomic"] is True
    assert settings["no_cursors"] is True


def test_sqlite_keeps_its_own_transactions():
    """On SQLite a transaction per view would take the one write lock for every page."""
    settings = read({"DJANGO_SECRET_KEY": "x", "DATABASE_URL": "sqlite:////tmp/jiwoo-settings-test.sqlite3"})

    assert settings["engine"] == "django.db.backends.sqlite3"
    assert not settings["atomic"]
