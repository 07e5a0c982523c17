"""The gunicorn hooks that are not exercised by a running server's answers."""

import gc

from jiwoo import gunicorn_conf


def test_a_worker_moves_the_loaded_app_out_of_the_collectors_way():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        gunicorn_conf.post_worker_init(worker=None)
        # Every object alive now (Django, the URL patterns, the API's models) is frozen.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
