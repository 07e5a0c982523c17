"""CPU per request inside one process, without a load tool: a quick loop for trying a change.

    .venv/bin/python -m bench.inprocess [--path /messages/] [--user light] [--requests 3000]
        [--method POST --body '{"text": "hi"}'] [--profile on]
        [--env-variant b512=OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512 --variants off,on,b512]

Runs the WSGI application (jiwoo.wsgi, as gunicorn would) in this process, once with
observability off and once on, each in a fresh interpreter, alternating for --rounds, and
prints the CPU per request from time.process_time(): every thread of the process counts, so
the span exporter's work is included (spans and metrics still held at the end are flushed
inside the measurement). --profile on|off prints the cProfile of that mode instead (main thread only).

    .venv/bin/python -m bench.inprocess --abba all,django,exporter [--pairs 30 --block 50 --rounds 5]

--abba switches each part on and off inside one process per round, between alternating blocks of
requests (ABBA order), and prints what each part adds; for ``all`` (every part at once) also what
observability adds over the floor, bare spans measured between the blocks (bench/switches.py).
`python -m bench.run`, with gunicorn and wrk, is the benchmark; this is the microscope.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import ROOT
from bench.database import keep_newest
from bench.servers import base_env, mode_env, running_sink  # the same environments as the benchmark

# What --without can leave out of the 'on' mode, to see what each part costs.
PARTS = ("django", "psycopg", "redis", "export", "metrics", "exemplars", "log", "activity")
# What --abba can switch inside one process (bench/switches.py).
ABBA_PARTS = (
    "django",
    "psycopg",
    "redis",
    "export",
    "log",
    "activity",
    # Candidates: the library's exporter against jiwoo's, the psycopg instrumentation against SQL
    # spans from Django's execute wrapper, the Django instrumentation's metrics, its active-requests
    # counter, its exclusions, its hooks.
    "exporter",
    "sqlwrap",
    "djmetrics",
    "djactive",
    "djexcluded",
    "djhooks",
)


def leave_out(parts: list[str]) -> None:
    """Switch parts of the 'on' mode off in this interpreter, before the app is imported."""
    instrumentations = [part for part in parts if part in ("django", "psycopg", "redis")]
    environment = {
        "export": {"OTEL_TRACES_EXPORTER": "none"},
        "metrics": {"OTEL_METRICS_EXPORTER": "none"},
        "exemplars": {"OTEL_METRICS_EXEMPLAR_FILTER": "always_off"},
        "log": {"DJANGO_REQUEST_LOG": "false"},
        "activity": {"RECENT_ACTIVITY_ENABLED": "false"},
    }
    if instrumentations:
        # The standard variable, which observability.telemetry honours as zero-code start does.
        os.environ["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"] = ",".join(instrumentations)
    for part in parts:
        os.environ.update(environment.get(part, {}))


def prepare(args):
    """Log in and build the request: returns ``one(app)``, which sends it once, and the statuses seen."""
    import django
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    django.setup()
    user = get_user_model().objects.get(username=args.user)
    client = Client(HTTP_HOST="127.0.0.1")  # a host in the benchmark's ALLOWED_HOSTS
    client.get(reverse("accounts:login"))  # the log-in form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}"
    body = args.body.encode()

    def environ() -> dict:
        return {
            "REQUEST_METHOD": args.method,
            "PATH_INFO": args.path.split("?")[0],
            "QUERY_STRING": args.path.partition("?")[2],
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_COOKIE": cookie,
            "HTTP_X_CSRFTOKEN": csrf,
            "HTTP_USER_AGENT": "jiwoo-bench/inprocess",
            "HTTP_ACCEPT": "text/html,application/json",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }

    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def one(app) -> None:
        result = app(environ(), start_response)
        for _chunk in result:
            pass
        result.close()

    return one, statuses


def measure(args) -> dict:
    """One mode in this interpreter (the environment is already set by the parent)."""
    if args.child == "on" and args.without:
        leave_out(args.without.split(","))
    from opentelemetry import trace

    import jiwoo.wsgi
    from observability import telemetry

    send, statuses = prepare(args)

    def one() -> None:
        send(jiwoo.wsgi.application)

    for _ in range(args.warmup):
        one()
    telemetry.force_flush()
    if statuses[-1][:1] not in ("2", "3"):
        raise SystemExit(f"{args.method} {args.path} answered {statuses[-1]}")
    if args.show_spans:
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        memory = InMemorySpanExporter()
        trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(memory))
        one()
        for span in memory.get_finished_spans():
            print(f"{span.name!r:50} {len(span.attributes):2} attributes: {dict(span.attributes)}", file=sys.stderr)
        return {}
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            one()
        profiler.disable()
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(60)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(40)
        return {}
    started = time.process_time()
    for _ in range(args.requests):
        one()
    telemetry.force_flush()
    cpu = time.process_time() - started
    refused = [status for status in statuses[-args.requests :] if status[:1] not in ("2", "3")]
    if refused:
        raise SystemExit(f"{args.method} {args.path}: {len(refused)} of {args.requests} answered {refused[-1]}")
    return {"cpu_us": cpu / args.requests * 1e6, "spans": telemetry.spans_ended()}


def measure_abba(args) -> dict:
    """Every part in --abba, switched on and off between blocks of requests in this one process.

    Pairs of blocks alternate their order (on then off, off then on, ...), so neither state
    always runs first; each block is preceded by requests that are not measured (the switch
    closes the database connection) and ends with the spans exported (inside its measurement).
    After each pair, a block of the floor: as many bare spans as the on block made, through a
    tracer provider of their own and the library's OTLP/HTTP exporter.
    """
    from django.db import connections
    from opentelemetry import trace

    from bench.span_cost import Floor
    from bench.switches import Handlers, SwitchedExporter, switch_for
    from observability import telemetry

    # The app builds its span exporter through telemetry.otlp_exporter: hand it one whose
    # target can be chosen while the process runs ("export" and the exporter comparisons).
    library_exporter = telemetry.otlp_exporter
    # What the app would choose (OTLP_SPAN_EXPORTER) is what "on" exports through.
    switched = SwitchedExporter({"none": None}, telemetry.span_exporter_choice())

    def exporter_for(signal: str):
        if signal != "TRACES":
            return library_exporter(signal)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        from observability.otlp_http import OtlpHttpSpanExporter

        switched.exporters["library"] = OTLPSpanExporter()
        switched.exporters["jiwoo"] = OtlpHttpSpanExporter()
        return switched

    telemetry.otlp_exporter = exporter_for
    import jiwoo.wsgi

    send, statuses = prepare(args)
    handlers = Handlers(jiwoo.wsgi.application)
    provider = trace.get_tracer_provider()
    floor = Floor(os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])

    def block(requests: int) -> tuple[float, int]:
        connections.close_all()
        for _ in range(3):
            send(handlers.current)
        provider.force_flush()
        spans_before = telemetry.spans_ended()
        started = time.process_time()
        for _ in range(requests):
            send(handlers.current)
        provider.force_flush()
        cpu = time.process_time() - started
        refused = [status for status in statuses[-requests:] if status[:1] not in ("2", "3")]
        if refused:
            raise SystemExit(f"{args.method} {args.path}: {len(refused)} of {requests} answered {refused[-1]}")
        return cpu / requests * 1e6, telemetry.spans_ended() - spans_before

    for _ in range(args.warmup):
        send(handlers.current)
    floor.per_span(500)
    result = {}
    for part in args.abba.split(","):
        switch = switch_for(part, handlers, switched)
        cpu = {"on": [], "off": []}
        spans = {"on": [], "off": []}
        floors = []
        for pair in range(args.pairs):
            for state in ("on", "off") if pair % 2 == 0 else ("off", "on"):
                getattr(switch, state)()
                used, made = block(args.block)
                cpu[state].append(used)
                spans[state].append(made / args.block)
            switch.on()
            switched.chosen = switched.default  # the exporter the app chose, whatever the part switched
            floors.append(floor.per_span(max(1, round(spans["on"][-1] * args.block))))
        result[part] = {
            **cpu,
            "spans_per_request": spans["on"],
            "spans_per_request_off": spans["off"],
            "floor_per_span": floors,
        }
        print(f"{part}: done", file=sys.stderr, flush=True)
    floor.close()
    return result


def abba_round(results: dict) -> dict:
    """One process's estimates per part: the median over pairs of what switching the part on added."""
    estimates = {}
    for part, blocks in results.items():
        added = [on - off for on, off in zip(blocks["on"], blocks["off"], strict=True)]
        spans = statistics.median(blocks["spans_per_request"])
        floor = spans * statistics.median(blocks["floor_per_span"])
        estimates[part] = {
            "on": statistics.median(blocks["on"]),
            "off": statistics.median(blocks["off"]),
            "added": statistics.median(added),
            "spans": spans,
            "spans_off": statistics.median(blocks["spans_per_request_off"]),
            "floor": floor,
        }
    return estimates


def spread_text(values: list[float], digits: int = 0) -> str:
    return f"{statistics.median(values):,.{digits}f} ({min(values):,.{digits}f} to {max(values):,.{digits}f})"


def report_abba(rounds: list[dict]) -> None:
    """Median (min to max) over the rounds of each part's estimates; for ``all``, overhead ÷ floor."""
    print("\nmedian (min to max) over rounds, µs CPU per request; 'added' is the median over pairs of on - off:")
    print(
        f"{'part':10} {'on':>22} {'part off':>22} {'added':>22} {'floor':>22} {'added ÷ floor':>20} "
        f"{'spans on/off':>13}"
    )
    for part in rounds[0]:
        column = {key: [r[part][key] for r in rounds] for key in ("on", "off", "added", "floor")}
        ratios = [r[part]["added"] / r[part]["floor"] for r in rounds if r[part]["floor"]]
        ratio = spread_text(ratios, 2) if part == "all" and ratios else "-"
        print(
            f"{part:10} {spread_text(column['on']):>22} {spread_text(column['off']):>22} "
            f"{spread_text(column['added']):>22} {spread_text(column['floor']):>22} {ratio:>20} "
            f"{statistics.median(r[part]['spans'] for r in rounds):6.2f}/"
            f"{statistics.median(r[part]['spans_off'] for r in rounds):.2f}"
        )
    spans = statistics.median(r[next(iter(r))]["spans"] for r in rounds)
    print(f"\nspans a request: {spans:g}; the floor: that many bare spans created and exported by the library")


def run_abba(args, request: list[str], base: dict, env_variants: dict, sink_url: str) -> None:
    """--abba: a fresh process per round (in the first --env-variant's environment, if any)."""
    extra = next(iter(env_variants.values()), None)
    env = {**mode_env(base, "on", sink_url, extra), "RECENT_ACTIVITY_BACKGROUND": "true"}
    command = [sys.executable, "-m", "bench.inprocess", *request, "--child", "abba", "--abba", args.abba]
    command += ["--pairs", str(args.pairs), "--block", str(args.block)]
    rounds = []
    for number in range(args.rounds):
        if args.method == "POST":
            # The same writes in every round, never up to the message cap (MESSAGES_PER_USER_MAX).
            keep_newest(args.database_url, args.user, 500)
        output = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        if output.returncode:
            raise SystemExit(f"round {number + 1} failed:\n{output.stderr[-3000:]}")
        estimates = abba_round(json.loads(output.stdout.split("RESULT ", 1)[1].splitlines()[0]))
        rounds.append(estimates)
        print(
            f"round {number + 1}: "
            + ", ".join(f"{part} +{e['added']:.0f}" for part, e in estimates.items())
            + (f"; floor {estimates['all']['floor']:.0f}" if "all" in estimates else "")
            + " µs CPU/request",
            flush=True,
        )
    report_abba(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/jiwoo_bench")
    parser.add_argument("--path", default="/messages/")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="")
    parser.add_argument("--user", default="light")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--variants",
        default="off,on",
        help=f"what to compare, in turn: off, on, or on-PART[-PART] with PART from {', '.join(PARTS)}",
    )
    parser.add_argument(
        "--env-variant",
        action="append",
        default=[],
        metavar="NAME=KEY=VALUE[,KEY=VALUE]",
        help="a variant NAME for --variants: 'on' with this environment added, to try a setting (repeatable)",
    )
    parser.add_argument("--profile", choices=["on", "off"], help="cProfile one mode (main thread only)")
    parser.add_argument(
        "--py-spy", metavar="FILE", help="record each variant with py-spy (GIL holders) into FILE.VARIANT"
    )
    parser.add_argument("--profile-out", metavar="FILE", help="with --profile, also save the raw cProfile stats")
    parser.add_argument("--show-spans", action="store_true", help="print the spans of one request ('on' variants)")
    parser.add_argument(
        "--abba",
        metavar="PART[,PART]",
        help="switch each PART on and off between blocks of requests inside one process per round, "
        f"in ABBA order, and print what it adds (PART: all, {', '.join(ABBA_PARTS)}); "
        "for 'all', also overhead ÷ floor",
    )
    parser.add_argument("--pairs", type=int, default=30, help="--abba: pairs of blocks per part and round")
    parser.add_argument("--block", type=int, default=50, help="--abba: requests a block")
    parser.add_argument("--child", choices=["on", "off", "abba"], help=argparse.SUPPRESS)
    parser.add_argument("--without", help=argparse.SUPPRESS)
    args = parser.parse_args()
    env_variants = {}
    for item in args.env_variant:
        name, _, settings = item.partition("=")
        if not name or "-" in name or not settings:
            parser.error(f"--env-variant takes NAME=KEY=VALUE[,KEY=VALUE], NAME without '-'; not {item!r}")
        env_variants[name] = dict(setting.split("=", 1) for setting in settings.split(","))

    if args.abba and (unknown := set(args.abba.split(",")) - {"all", *ABBA_PARTS}):
        parser.error(f"--abba takes all, {', '.join(ABBA_PARTS)}; not {sorted(unknown)}")
    if args.child:
        result = measure_abba(args) if args.child == "abba" else measure(args)
        print("RESULT " + json.dumps(result), flush=True)
        return

    base = base_env(args.database_url)
    request = ["--path", args.path, "--method", args.method, "--body", args.body, "--user", args.user]
    request += ["--requests", str(args.requests), "--warmup", str(args.warmup), "--database-url", args.database_url]
    with running_sink() as sink_url:
        if args.abba:
            run_abba(args, request, base, env_variants, sink_url)
            return
        if args.profile:
            variants = [args.profile]
        elif args.show_spans:  # once, for each variant that makes spans
            variants = [variant for variant in args.variants.split(",") if variant != "off"]
        else:
            variants = args.variants.split(",") * args.rounds
        results: dict[str, list[float]] = {variant: [] for variant in variants}
        for variant in variants:
            mode, *without = variant.split("-")
            extra = env_variants.get(mode)
            if extra is not None:
                mode = "on"
            env = {**mode_env(base, mode, sink_url, extra), "RECENT_ACTIVITY_BACKGROUND": "true"}
            command = [sys.executable, "-m", "bench.inprocess", *request, "--child", mode]
            if without:
                command += ["--without", ",".join(without)]
            if args.show_spans:
                command.append("--show-spans")
            if args.profile:
                command.append("--profile=" + mode)
                if args.profile_out:
                    command.append("--profile-out=" + str(Path(args.profile_out).resolve()))
            if args.py_spy:
                spy = str(Path(sys.executable).with_name("py-spy"))
                command = [
                    spy,
                    "record",
                    "--gil",
                    "-r",
                    "400",
                    "-f",
                    "raw",
                    "-o",
                    f"{args.py_spy}.{variant}",
                    "--",
                    *command,
                ]
            output = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
            if output.returncode:
                raise SystemExit(f"{variant} failed:\n{output.stderr[-3000:]}")
            if args.profile or args.show_spans:
                print(output.stderr)
                continue
            result = json.loads(output.stdout.split("RESULT ", 1)[1].splitlines()[0])
            results[variant].append(result["cpu_us"])
            print(f"{variant:24}: {result['cpu_us']:7.0f} µs CPU/request ({result['spans']} spans)", flush=True)
        if not (args.profile or args.show_spans):
            print("\nminimum and median of each, µs CPU per request:")
            for variant, values in results.items():
                print(f"{variant:24} {min(values):7.0f} {statistics.median(values):7.0f}")


if __name__ == "__main__":
    main()
