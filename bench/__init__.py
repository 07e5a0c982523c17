"""jiwoo's benchmarks, run from the repository root as modules (``python -m bench.run``, which is `make bench`).

``bench.run`` is the command line of the benchmark under load; it measures each scenario of
``bench.scenarios`` in every variant, round after round, in the processes of ``bench.servers``
(gunicorn in each variant's environment, the OTLP sink, wrk) against the database that
``bench.database`` seeds, then ``bench.stats`` takes the ratios and their spread, ``bench.report``
writes the Markdown table, the JSON results and the docs/BENCHMARKS.md entry, and ``bench.plot``
draws the PNG. Tools of their own: ``bench.inprocess`` (CPU per request inside one process; with
``--abba``, parts switched on and off inside it by ``bench.switches``), ``bench.span_cost`` (what
one span costs, and the floor that ``bench.run`` and ``bench.inprocess`` weigh observability
against), ``bench.search`` (the slowest searches, timed) and ``bench.connections`` (database
connection handling under load). ``bench.sink`` is the OTLP sink
they export to, ``bench.procfs`` reads /proc for them and the tests, and ``bench.stock`` is the
``stock`` variant's zero-code instrumented app.
"""

from pathlib import Path

# The repository: the benchmark runs manage.py and gunicorn from here.
ROOT = Path(__file__).resolve().parent.parent
