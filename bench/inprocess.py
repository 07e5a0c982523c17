"""CPU per request inside one process, without a load tool: a quick loop for trying a change.

    .venv/bin/python -m bench.inprocess [--path /messages/] [--user light] [--requests 3000]
        [--method POST --body '{"text": "hi"}'] [--profile on]
        [--env-variant b512=OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512 --variants off,on,b512]

Runs the WSGI application (jiwoo.wsgi, as gunicorn would) in this process, once with
observability off and once on, each in a fresh interpreter, alternating for --rounds, and
prints the CPU per request from time.process_time(): every thread of the process counts, so
the span exporter's work is included (spans and metrics still held at the end are flushed
inside the measurement). --profile on|off prints the cProfile of that mode instead (main thread only).
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
from bench.servers import base_env, mode_env, running_sink  # the same environments as the benchmark

# What --without can leave out of the 'on' mode, to see what each part costs.
PARTS = ("django", "psycopg", "redis", "export", "metrics", "exemplars", "log", "activity")


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


def measure(args) -> dict:
    """One mode in this interpreter (the environment is already set by the parent)."""
    if args.child == "on" and args.without:
        leave_out(args.without.split(","))
    import django
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from opentelemetry import trace

    import jiwoo.wsgi
    from observability import telemetry

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

    def one() -> None:
        result = jiwoo.wsgi.application(environ(), start_response)
        for _chunk in result:
            pass
        result.close()

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
    parser.add_argument("--child", choices=["on", "off"], help=argparse.SUPPRESS)
    parser.add_argument("--without", help=argparse.SUPPRESS)
    args = parser.parse_args()
    env_variants = {}
    for item in args.env_variant:
        name, _, settings = item.partition("=")
        if not name or "-" in name or not settings:
            parser.error(f"--env-variant takes NAME=KEY=VALUE[,KEY=VALUE], NAME without '-'; not {item!r}")
        env_variants[name] = dict(setting.split("=", 1) for setting in settings.split(","))

    if args.child:
        print("RESULT " + json.dumps(measure(args)), flush=True)
        return

    base = base_env(args.database_url)
    request = ["--path", args.path, "--method", args.method, "--body", args.body, "--user", args.user]
    request += ["--requests", str(args.requests), "--warmup", str(args.warmup), "--database-url", args.database_url]
    with running_sink() as sink_url:
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
