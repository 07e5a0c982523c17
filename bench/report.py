"""The benchmark's report: the run as a dict, its Markdown tables, and where they are kept.

By default a run writes bench/results/<stamp>.json and bench/results/latest.json and appends its
tables to docs/BENCHMARKS.md; a smoke run only prints them.
"""

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.stats import compare, over_floor, page_over_post_cpu, summarise

# Variants that are `on` with one part more (the trace view's store): their cost is taken against `on`.
ADDS_TO_ON = ("store",)


def versions() -> dict:
    """What ran and on what: the report's heading."""

    def out(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    import django
    import gunicorn
    from opentelemetry.sdk.version import __version__ as otel

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "opentelemetry-sdk": otel,
        "postgresql": out(["psql", "--version"]),
        "redis": out(["redis-server", "--version"]),
        "wrk": out(["wrk", "--version"]),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
    }


def ratio_text(row: dict, name: str) -> str:
    """A ratio from ``spread``: its median (min to max)."""
    return f"{row[name]:.2f} ({row[f'{name}_min']:.2f} to {row[f'{name}_max']:.2f})"


def variant_names(report: dict) -> list[str]:
    """The variants as the report names them; ``sampled`` with the share of traces it records."""
    ratio = report["settings"].get("sample_ratio")
    return [f"sampled ({ratio:g})" if name == "sampled" else name for name in report["variants"]]


def pair_table(variant: str, baseline: str, rows: list[dict]) -> list[str]:
    """The lines of one variant against one baseline, its ratios taken within a round."""
    lines = [
        "",
        f"`{variant}` against `{baseline}`, ratios taken within a round: median (min to max over rounds).",
        "",
        f"| scenario | req/s {variant} / {baseline} | p99 {variant} / {baseline} | CPU/req {variant} / {baseline} |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['scenario']} | {ratio_text(row, 'rps_ratio')} | {ratio_text(row, 'p99_ratio')} "
            f"| {ratio_text(row, 'cpu_ratio')} |"
        )
    return lines


def markdown(report: dict) -> str:
    v = report["versions"]
    lines = [
        f"## {report['date']}",
        "",
        f"Machine: {v['cpu']}. Python {v['python']}, Django {v['django']}, gunicorn {v['gunicorn']} "
        f"(2 sync workers), OpenTelemetry SDK {v['opentelemetry-sdk']}, {v['postgresql']}, {v['redis']}, {v['wrk']}. "
        f"wrk: 1 thread, {report['settings']['connections']} connections, {report['settings']['duration']} s a run "
        f"after {report['settings']['warmup']} s of warm-up, {report['settings']['rounds']} rounds of "
        f"{', '.join(variant_names(report))}; medians shown.",
        "",
        "| scenario | req/s off | req/s on | on/off | p50 off / on (ms) | p95 off / on (ms) | p99 off / on (ms) "
        "| CPU/req off (µs) | CPU/req on (µs) | added (µs) | spans created / received / dropped |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["summary"]:
        lines.append(
            f"| {row['scenario']} | {row['rps_off']:.0f} | {row['rps_on']:.0f} | {row['throughput_on_over_off']:.0%} "
            f"| {row['p50_ms_off']:.2f} / {row['p50_ms_on']:.2f} | {row['p95_ms_off']:.2f} / {row['p95_ms_on']:.2f} "
            f"| {row['p99_ms_off']:.2f} / {row['p99_ms_on']:.2f} | {row['cpu_us_per_request_off']:.0f} "
            f"| {row['cpu_us_per_request_on']:.0f} | {row['cpu_us_added']:+.0f} "
            f"| {row['spans_created']} / {row['spans_received']} / {row['spans_dropped']} |"
        )
    if report.get("comparison"):
        lines += [
            "",
            "Each variant against `off`, ratios taken within a round: median (min to max over rounds).",
            "",
            "| variant | scenario | req/s | req/s / off | p99 (ms) | p99 / off | CPU/req / off | spans received |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in report["comparison"]:
            lines.append(
                f"| `{row['variant']}` | {row['scenario']} | {row['rps']:.0f} | {ratio_text(row, 'rps_ratio')} "
                f"| {row['p99_ms']:.2f} | {ratio_text(row, 'p99_ratio')} | {ratio_text(row, 'cpu_ratio')} "
                f"| {row['spans_received']} |"
            )
    for baseline, rows in report.get("on_against", {}).items():
        lines += pair_table("on", baseline, rows)
    for variant, rows in report.get("against_on", {}).items():
        lines += pair_table(variant, "on", rows)
    if report.get("over_floor"):
        per_span = [floor["us_per_span"] for floor in report["floors"]]
        lines += [
            "",
            "What `on` adds to `off`'s CPU per request, over the floor (the request's spans as bare spans created "
            "and exported by the library, measured in each round: "
            f"{min(per_span):.0f} to {max(per_span):.0f} µs a span), within a round: median (min to max over rounds).",
            "",
            "| scenario | spans a request | added (µs) | floor (µs) | added ÷ floor |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for row in report["over_floor"]:
            lines.append(
                f"| {row['scenario']} | {row['spans_per_request']:.2f} | {row['added_us']:.0f} "
                f"| {row['floor_us']:.0f} | {ratio_text(row, 'ratio')} |"
            )
    if report.get("page_over_post_cpu"):
        cost = report["page_over_post_cpu"]
        lines += [
            "",
            f"CPU per request of the messages page over a `POST /api/messages`, observability {cost['mode']}, "
            f"within a round: {ratio_text(cost, 'ratio')} over {cost['rounds']} rounds.",
        ]
    if report.get("memory"):
        memory = report["memory"]
        samples = ", ".join(f"{kib / 1024:.1f}" for kib in memory["rss_kib_samples"])
        lines += [
            "",
            f"Worker memory (both workers, MiB) over a {memory['seconds']} s run of the messages page with "
            f"observability on: {samples} (growth after warm-up {memory['growth_kib'] / 1024:+.1f} MiB).",
        ]
    return "\n".join(lines) + "\n"


def assemble(args, variants: list[str], runs: list[dict], memory: dict | None, floors: list[dict] = ()) -> dict:
    """The whole run, as latest.json keeps it: what ran where and how, every measurement, and the ratios."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions(),
        "settings": {
            **{
                k: getattr(args, k)
                for k in (
                    "duration",
                    "warmup",
                    "rounds",
                    "connections",
                    "messages",
                    "primary_messages",
                    "on_env",
                    "sample_ratio",
                )
            },
            "trees": {name: str(path) for name, path in args.trees.items()},
        },
        "variants": variants,
        "summary": summarise(runs),
        "comparison": compare(runs),
        # jiwoo against its peer (stock zero-code instrumentation) and against other trees (a change before and after).
        "on_against": {
            baseline: compare(runs, baseline=baseline, variants=("on",))
            for baseline in variants
            if baseline not in ("off", "on", "sampled", *ADDS_TO_ON) and "on" in variants
        },
        # What a part that only adds to `on` costs: the variant against `on`.
        "against_on": {
            variant: compare(runs, baseline="on", variants=(variant,))
            for variant in variants
            if variant in ADDS_TO_ON and "on" in variants
        },
        "page_over_post_cpu": page_over_post_cpu(runs),
        "floors": list(floors),
        "over_floor": over_floor(runs, list(floors)),
        "runs": runs,
        "memory": memory,
    }


def save(report: dict, table: str, output_dir: Path, markdown_path: Path) -> None:
    """The report as JSON (stamped, and as latest.json) in ``output_dir``; ``table`` appended to ``markdown_path``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (output_dir / f"{stamp}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (output_dir / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    if not markdown_path.exists():
        markdown_path.write_text("# Benchmarks\n\nAppended by `make bench` (bench/run.py); newest last.\n\n")
    with markdown_path.open("a", encoding="utf-8") as handle:
        handle.write("\n" + table)
