"""The slowest searches a user can ask for, timed: every one must answer within a second.

    .venv/bin/python -m bench.search --database-url postgres://postgres@127.0.0.1:5432/jiwoo_search
        [--messages 200000] [--repeat 3]

Creates the database when it does not exist, migrates it, gives the user ``searcher``
--messages messages (``seed_demo``: English and Korean words, names, ticket numbers) unless
they have them already, then asks the messages page (in this process, through Django's test
client, with the web settings: the statement timeout applies) for each hostile search below,
--repeat times, and prints the slowest time of each. The searches are up to the search box's
length limit: single letters, pairs of letters and common words, repeated and not: the kinds
of search that cost the most. Exit status 1 when one took a second or more.
"""

import argparse
import io
import os
import sys
import time
from urllib.parse import urlparse, urlunparse

BUDGET_SECONDS = 1.0
# What a user can type into the box (200 characters at most); the form refuses more than
# MAX_SEARCH_WORDS different words, and that answer is timed too.
SEARCHES = {
    "one common letter": "e",
    "a letter and a pair": "e el",
    "e el ell, repeated to 200 characters": " ".join(["e", "el", "ell"] * 40)[:200].strip(),
    "8 different letters": "a e i o u s t r",
    "8 different common pairs": "el la ra ti on er re ic",
    "8 common words": "the log request trace span error deploy message",
    "a common and a rare word": "coffee ticket-0042",
    "a rare Korean pair": "서연",
    "a Korean surname": "김",
    "9 different words (refused)": "a b c d e f g h i",
    "one 200-character word": "x" * 200,
    "100 different pairs (refused)": " ".join(f"{a}{b}" for a in "abcdefghij" for b in "abcdefghij")[:200],
    "a page far past the end": "e&page=9223372036854775807",
}


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database of its own")
    parser.add_argument("--messages", type=int, default=200_000, help="the searching user's messages")
    parser.add_argument("--repeat", type=int, default=3, help="times each search is asked")
    args = parser.parse_args()

    ensure_database(args.database_url)
    os.environ.update(
        {
            "DATABASE_URL": args.database_url,
            "DJANGO_SETTINGS_MODULE": "jiwoo.settings",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-search-only"),
            "DJANGO_HTTPS": "false",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DJANGO_LOG_LEVEL": "WARNING",
            "REDIS_KEY_PREFIX": "jiwoo-bench-search",
            "OTEL_SDK_DISABLED": "true",
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.filter(username="searcher").first()
    have = user.messages.count() if user else 0
    if have < args.messages:
        call_command(
            "seed_demo",
            users=1,
            messages=0,
            primary="searcher",
            primary_messages=args.messages - have,
            stdout=io.StringIO(),
        )
        user = get_user_model().objects.get(username="searcher")
    client = Client()
    client.force_login(user)

    timeout = settings.DATABASE_STATEMENT_TIMEOUT
    print(f"{user.messages.count():,} messages; statement timeout {timeout:g} s; slowest of {args.repeat}\n")
    print("| search | characters | status | slowest (ms) |")
    print("| --- | ---: | ---: | ---: |")
    worst = 0.0
    for name, query in SEARCHES.items():
        query, _, page = query.partition("&page=")
        params = {"q": query, **({"page": page} if page else {})}
        slowest, status = 0.0, None
        for _ in range(args.repeat):
            started = time.perf_counter()
            status = client.get("/messages/", params).status_code
            slowest = max(slowest, time.perf_counter() - started)
        worst = max(worst, slowest)
        print(f"| {name} | {len(query)} | {status} | {slowest * 1000:.0f} |", flush=True)
    print(f"\nslowest of all: {worst * 1000:.0f} ms (budget {BUDGET_SECONDS * 1000:.0f} ms)")
    return 0 if worst < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
