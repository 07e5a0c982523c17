"""The benchmark's database: created, migrated and seeded once, then trimmed before each run."""

import subprocess
import sys
from urllib.parse import urlparse, urlunparse

from bench import ROOT

# Every seeded user's password; the benchmark logs in with it.
PASSWORD = "demo-password"


def manage(arguments: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    """``manage.py`` with ``arguments``, in the repository, with the benchmark's environment."""
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, check=True, **kwargs)


def prepare_database(database_url: str, env: dict, messages: int, primary_messages: int) -> None:
    """Create the database if needed, migrate, and seed it once (later runs reuse the data)."""
    import psycopg

    name = urlparse(database_url).path.lstrip("/")
    admin_url = urlunparse(urlparse(database_url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    manage(["migrate", "--noinput", "-v", "0"], env, stdout=subprocess.DEVNULL)

    def messages_of(username: str) -> int:
        with psycopg.connect(database_url) as connection:
            return connection.execute(
                "SELECT count(*) FROM messages_app_message m JOIN auth_user u ON u.id = m.author_id "
                "WHERE u.username = %s",
                (username,),
            ).fetchone()[0]

    seed = ["seed_demo", "--password", PASSWORD]
    if messages_of("bench") < primary_messages:
        manage(
            [
                *seed,
                "--users",
                "20",
                "--messages",
                str(messages),
                "--primary",
                "bench",
                "--primary-messages",
                str(primary_messages),
            ],
            env,
        )
    for username in ("light", "writer"):
        if messages_of(username) == 0:
            # Everyday users: a page of messages, not hundreds of thousands.
            manage([*seed, "--users", "1", "--messages", "0", "--primary", username, "--primary-messages", "500"], env)
    # Every run measures the same page and the same writes: the everyday user and the writer
    # keep exactly their newest 500 (the writer's would otherwise grow with every run, up to the
    # message cap), and VACUUM now, so that autovacuum does not share the CPU with a measurement.
    for username in ("light", "writer"):
        keep_newest(database_url, username, 500)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE messages_app_message")


def keep_newest(database_url: str, username: str, count: int) -> None:
    """Delete all but the user's newest ``count`` messages."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "DELETE FROM messages_app_message WHERE author_id = (SELECT id FROM auth_user WHERE username = %s) "
            "AND id NOT IN (SELECT m.id FROM messages_app_message m JOIN auth_user u ON u.id = m.author_id "
            "WHERE u.username = %s ORDER BY m.created_at DESC LIMIT %s)",
            (username, username, count),
        )
