"""The benchmark's chart: each variant against observability off, per scenario, as a PNG."""

from pathlib import Path


def plot(rows: list[dict], path: Path) -> None:
    """Throughput and p99 of each variant against off, per scenario, as a PNG (none without variants)."""
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    scenarios = list(dict.fromkeys(row["scenario"] for row in rows))
    variants = list(dict.fromkeys(row["variant"] for row in rows))
    figure, axes = pyplot.subplots(1, 2, figsize=(11, 0.8 * len(scenarios) + 2.2))
    width = 0.8 / max(1, len(variants))
    panels = (("rps", "throughput / off (higher is better)"), ("p99", "p99 latency / off (lower is better)"))
    for axis, (key, title) in zip(axes, panels, strict=True):
        for index, variant in enumerate(variants):
            found = {row["scenario"]: row for row in rows if row["variant"] == variant}
            names = [name for name in scenarios if name in found]
            values = [found[name][f"{key}_ratio"] for name in names]
            spread = [
                [found[name][f"{key}_ratio"] - found[name][f"{key}_ratio_min"] for name in names],
                [found[name][f"{key}_ratio_max"] - found[name][f"{key}_ratio"] for name in names],
            ]
            positions = [scenarios.index(name) + index * width for name in names]
            axis.barh(positions, values, height=width, xerr=spread, label=variant, capsize=2)
        axis.axvline(1.0, color="black", linewidth=0.8)
        # One wild round (a p99 of a fast request, say) would squash every bar to nothing: the
        # axis follows the medians, and a longer whisker runs off its edge.
        axis.set_xlim(0, max(1.2, 1.5 * max(row[f"{key}_ratio"] for row in rows)))
        axis.set_yticks([number + width * (len(variants) - 1) / 2 for number in range(len(scenarios))])
        axis.set_yticklabels(scenarios if key == "rps" else [])
        axis.invert_yaxis()
        axis.set_title(title, fontsize="medium")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(variants), fontsize="small")
    figure.suptitle("Each variant against observability off: median of the rounds, bars from min to max")
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
