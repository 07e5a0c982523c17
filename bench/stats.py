"""The benchmark's arithmetic: medians, ratios taken within a round, and their spread over the rounds."""

import statistics


def spread(values: list[float], name: str) -> dict:
    """``name``: the median of ``values``; ``name_min`` and ``name_max``: their spread (NaN when there are none)."""
    values = values or [float("nan")]
    return {name: statistics.median(values), f"{name}_min": min(values), f"{name}_max": max(values)}


def page_over_post_cpu(runs: list[dict], mode: str = "off") -> dict | None:
    """The messages page's CPU per request over a ``POST``'s, with observability ``mode``, within each round.

    Both scenarios run in the same round (the loop is round by round), so the machine's drift
    moves both alike; None when the run did not measure both.
    """
    by_round: dict[int, dict] = {}
    for run in runs:
        if run["mode"] == mode and run["scenario"] in ("messages page", "POST /api/messages"):
            by_round.setdefault(run["round"], {})[run["scenario"]] = run["cpu_us_per_request"]
    ratios = [r["messages page"] / r["POST /api/messages"] for r in by_round.values() if len(r) == 2]
    return {"mode": mode, "rounds": len(ratios), **spread(ratios, "ratio")} if ratios else None


def modes_by_round(runs: list[dict], scenario: str) -> dict[int, dict[str, dict]]:
    """One scenario's runs by round, then by mode: what ran together, so ratios are taken within a round."""
    by_round: dict[int, dict[str, dict]] = {}
    for run in runs:
        if run["scenario"] == scenario:
            by_round.setdefault(run["round"], {})[run["mode"]] = run
    return by_round


def compare(runs: list[dict], baseline: str = "off", variants: tuple[str, ...] | None = None) -> list[dict]:
    """Each variant (or only ``variants``) against ``baseline``: the median of the per-round ratios, and their spread.

    A ratio is taken within one round (the baseline and the variant ran one after the other),
    so a drift of the machine between rounds does not count as a difference.
    """
    rows = []
    for name in dict.fromkeys(run["scenario"] for run in runs):
        by_round = modes_by_round(runs, name)
        modes = dict.fromkeys(r["mode"] for r in runs if r["scenario"] == name)
        for variant in [v for v in modes if v != baseline and (variants is None or v in variants)]:
            pairs = [(r[baseline], r[variant]) for r in by_round.values() if baseline in r and variant in r]
            if not pairs:
                continue
            row = {"scenario": name, "variant": variant, "baseline": baseline, "rounds": len(pairs)}
            for label, key in (("rps", "rps"), ("p99", "p99_ms"), ("cpu", "cpu_us_per_request")):
                ratios = [v[key] / o[key] for o, v in pairs if o[key] and v[key] is not None]
                row.update(spread(ratios, f"{label}_ratio"))
            row["rps"] = statistics.median(v["rps"] for _, v in pairs)
            row["p99_ms"] = statistics.median(v["p99_ms"] for _, v in pairs)
            row["spans_received"] = sum(v["spans_received"] for _, v in pairs)
            row["errors"] = sum(v["errors"] for _, v in pairs)
            rows.append(row)
    return rows


def summarise(runs: list[dict]) -> list[dict]:
    """Each scenario measured both off and on: the medians over the rounds of each, and what on adds."""
    rows = []
    for name in dict.fromkeys(run["scenario"] for run in runs):
        if not {"off", "on"} <= {run["mode"] for run in runs if run["scenario"] == name}:
            continue
        by_mode = {mode: [r for r in runs if r["scenario"] == name and r["mode"] == mode] for mode in ("off", "on")}

        def median(mode: str, key: str, by_mode=by_mode) -> float:
            return statistics.median(r[key] for r in by_mode[mode])

        rows.append(
            {
                "scenario": name,
                **{
                    f"{key}_{mode}": median(mode, key)
                    for mode in ("off", "on")
                    for key in ("rps", "p50_ms", "p95_ms", "p99_ms", "cpu_us_per_request")
                },
                "throughput_on_over_off": median("on", "rps") / median("off", "rps"),
                "cpu_us_added": median("on", "cpu_us_per_request") - median("off", "cpu_us_per_request"),
                "errors": sum(r["errors"] for r in by_mode["off"] + by_mode["on"]),
                "spans_created": sum(r["spans_created"] for r in by_mode["on"]),
                "spans_received": sum(r["spans_received"] for r in by_mode["on"]),
                "spans_dropped": sum(r["spans_dropped"] for r in by_mode["on"]),
                "worker_rss_mib_on": median("on", "worker_rss_kib") / 1024,
            }
        )
    return rows


def over_floor(runs: list[dict], floors: list[dict]) -> list[dict]:
    """Per scenario, within each round: what ``on`` adds to ``off``'s CPU per request, over the floor.

    The floor is what the request's spans would cost as bare spans created and exported by the
    library (its spans a request times the round's cost of one bare span), so the ratio says how
    much observability adds beyond the spans it exists to make; 1.0 would be nothing beyond them.
    """
    per_span = {floor["round"]: floor["us_per_span"] for floor in floors}
    rows = []
    for name in dict.fromkeys(run["scenario"] for run in runs):
        by_round = modes_by_round(runs, name)
        measured = [
            (r["on"]["cpu_us_per_request"] - r["off"]["cpu_us_per_request"], r["on"]["spans_per_request"] * per_span[n])
            for n, r in by_round.items()
            if "on" in r and "off" in r and n in per_span
        ]
        measured = [(added, floor) for added, floor in measured if floor > 0]
        if not measured:
            continue
        rows.append(
            {
                "scenario": name,
                "rounds": len(measured),
                "spans_per_request": statistics.median(
                    r["on"]["spans_per_request"] for r in by_round.values() if "on" in r
                ),
                **spread([added for added, _ in measured], "added_us"),
                **spread([floor for _, floor in measured], "floor_us"),
                **spread([added / floor for added, floor in measured], "ratio"),
            }
        )
    return rows
