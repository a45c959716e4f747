"""Statistics, the Markdown table and the plot for bench.py's results."""
import statistics


def quantile(samples, q):
    s = sorted(samples)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(samples):
    if not samples:
        return "no samples"
    return (f"median {statistics.median(samples):.4g} "
            f"(p10 {quantile(samples, 0.1):.4g}, p90 {quantile(samples, 0.9):.4g}, n={len(samples)})")


def overlaps(records):
    """Pairs of commands that ran on the same GPU at the same time: (start, end, uuids) each."""
    bad = []
    by_gpu = {}
    for start, end, uuids in records:
        for u in uuids:
            by_gpu.setdefault(u, []).append((start, end))
    for u, spans in by_gpu.items():
        spans.sort()
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            if s2 < e1:
                bad.append((u, s1, e1, s2, e2))
    return bad


def markdown(results):
    rows = ["| measure | median | p10 | p90 | n | unit | note |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, m in results["measures"].items():
        s = m["samples"]
        med = statistics.median(s) if s else float("nan")
        rows.append(f"| {name} | {med:.4g} | {quantile(s, 0.1):.4g} | {quantile(s, 0.9):.4g} | "
                    f"{len(s)} | {m['unit']} | {m['note']} |")
    sc = results.get("scale", {})
    text = [f"Machine: {results['machine']} ({results['mode']} mode, size {results['size']})", "",
            *rows, ""]
    if sc:
        text.append(f"Scale: {sc['waiters']} waiters on {sc['gpus']} GPUs: {sc['commands']} commands "
                    f"ran in {sc['wall_s']:.1f} s using {sc['cpu_s']:.2f} CPU s in all (gpu-waiters, "
                    f"holders and commands); {sc['failed']} failed; "
                    f"{len(sc['double_booked'])} GPU double bookings.")
    return "\n".join(text) + "\n"


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    series = {k.replace(" reaction", ""): v["samples"] for k, v in results["measures"].items()
              if k.endswith(" reaction")}
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.boxplot(list(series.values()), vert=False, whis=(0, 100))
    ax.set_yticks(range(1, len(series) + 1), list(series.keys()))
    for i, s in enumerate(series.values(), start=1):
        ax.scatter(s, [i] * len(s), s=10, alpha=0.6)
    ax.set_xlabel("reaction latency: GPU freed -> command runs (ms)")
    ax.set_title(results["machine"])
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True
