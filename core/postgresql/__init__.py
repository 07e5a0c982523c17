"""Django's PostgreSQL backend, made safe behind a transaction-mode pooler (see base.py)."""
