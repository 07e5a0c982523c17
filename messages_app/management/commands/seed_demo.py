"""Seed realistic demo data: users and many messages, fast (COPY on PostgreSQL, batches elsewhere).

    manage.py seed_demo --users 20 --messages 1000000 --primary bench --primary-messages 200000

The messages mix English and Korean words and some emoji, spread over the past year.
"""

import random
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from messages_app.models import Message, normalise_for_search

WORDS = [
    "observability",
    "trace",
    "span",
    "log",
    "metric",
    "latency",
    "request",
    "redis",
    "postgres",
    "django",
    "deploy",
    "cluster",
    "grafana",
    "tempo",
    "loki",
    "dashboard",
    "alert",
    "error",
    "retry",
    "cache",
    "session",
    "search",
    "message",
    "hello",
    "world",
    "coffee",
    "morning",
    "meeting",
    "release",
    "review",
    "budget",
    "travel",
    "weekend",
    "music",
    "garden",
    "recipe",
    "서울",
    "부산",
    "제주도",
    "데이터베이스",
    "관측",
    "가능성",
    "로그",
    "트레이스",
    "지연",
    "시간",
    "요청",
    "배포",
    "클러스터",
    "대시보드",
    "경고",
    "오류",
    "재시도",
    "캐시",
    "세션",
    "검색",
    "메시지",
    "안녕하세요",
    "세계",
    "커피",
    "아침",
    "회의",
    "출시",
    "검토",
    "예산",
    "여행",
    "주말",
    "음악",
    "정원",
    "요리법",
    "김치찌개",
    "비빔밥",
]
EMOJI = ["🎉", "🚀", "☕", "🌸", "🔥", "✅", "📈", "🐛"]
# What people really search for is rarer than everyday words: names and ticket numbers.
SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN_NAMES = [
    "민준",
    "서준",
    "도윤",
    "예준",
    "시우",
    "하준",
    "주원",
    "지호",
    "지후",
    "준우",
    "서연",
    "서윤",
    "지우",
    "서현",
    "민서",
    "하은",
    "하윤",
    "윤서",
    "지유",
    "채원",
    "지민",
    "수아",
    "지아",
    "다은",
    "은서",
    "예은",
    "수빈",
    "소율",
    "예린",
    "지원",
]
BATCH = 10_000


def message_text(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(3, 18))
    if rng.random() < 0.15:
        words.insert(rng.randrange(len(words) + 1), rng.choice(EMOJI))
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words) + 1), rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES))
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words) + 1), f"ticket-{rng.randrange(10_000):04d}")
    return " ".join(words)


@contextmanager
def bulk_load():
    """On PostgreSQL, let the search indexes batch new entries while loading, then merge them.

    Migration 0004 turns the GIN pending list off so that searches stay fast; a bulk load
    wants it on, as merging a batch at once is several times faster than row by row.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [Message._meta.db_table, "% USING gin %"],
        )
        indexes = [name for (name,) in cursor.fetchall()]
        for index in indexes:
            cursor.execute(f'ALTER INDEX "{index}" SET (fastupdate = on)')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for index in indexes:
                cursor.execute(f'ALTER INDEX "{index}" SET (fastupdate = off)')
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])


class Command(BaseCommand):
    help = "Create demo users and messages (batched; COPY on PostgreSQL) with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=10, help="demo users demo-0001 … (default 10)")
        parser.add_argument("--messages", type=int, default=10_000, help="messages spread over those users")
        parser.add_argument("--primary", default="", help="a user who gets --primary-messages of their own")
        parser.add_argument("--primary-messages", type=int, default=0)
        parser.add_argument("--password", default="demo-password", help="every demo user's password")
        parser.add_argument("--seed", type=int, default=42, help="random seed, for repeatable data")

    def handle(self, *args, **options):
        if options["users"] < 1 or options["messages"] < 0 or options["primary_messages"] < 0:
            raise CommandError("--users must be at least 1; message counts cannot be negative.")
        rng = random.Random(options["seed"])
        # One hash for every demo user: hashing is deliberately slow, and they share a password.
        password = make_password(options["password"])
        users = [self._user(f"demo-{number:04d}", password) for number in range(1, options["users"] + 1)]
        plan = [(rng.choice(users), None) for _ in range(options["messages"])]
        if options["primary"]:
            primary = self._user(options["primary"], password)
            plan += [(primary, None)] * options["primary_messages"]
        total = len(plan)
        now = timezone.now()
        with bulk_load(), tqdm(total=total, unit="msg", desc="messages", disable=total == 0) as progress:
            for start in range(0, total, BATCH):
                rows = []
                for author, _ in plan[start : start + BATCH]:
                    text = message_text(rng)
                    created = now - timedelta(seconds=rng.randint(0, 365 * 24 * 3600))
                    rows.append((author.pk, text, normalise_for_search(text), created))
                self._insert(rows)
                progress.update(len(rows))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Message._meta.db_table}")
        self.stdout.write(self.style.SUCCESS(f"{len(users)} users, {total} messages seeded."))

    def _user(self, username: str, password_hash: str):
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.password = password_hash
            user.save(update_fields=["password"])
        return user

    @transaction.atomic
    def _insert(self, rows: list[tuple]) -> None:
        if connection.vendor == "postgresql":
            table = Message._meta.db_table
            with connection.cursor() as cursor:
                raw = cursor.cursor  # psycopg's own cursor: COPY is several times faster than INSERT
                with raw.copy(f"COPY {table} (author_id, text, search_text, created_at) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            Message.objects.bulk_create(
                [Message(author_id=a, text=t, search_text=s, created_at=c) for a, t, s, c in rows], batch_size=1000
            )
