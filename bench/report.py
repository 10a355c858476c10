#!/usr/bin/env python3
"""Runs the benchmark binaries, prints each headline figure as `name: value unit`, and rewrites
the measured block of docs/PERFORMANCE.md (between the bench:results markers).

Every figure is the median of repeated runs measured in this one invocation (the machine is
noisy: medians and same-run ratios, never a best case)."""
import datetime
import json
import os
import platform
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
DOC = os.path.join(ROOT, "docs", "PERFORMANCE.md")
REPETITIONS = int(os.environ.get("BENCH_REPETITIONS", "5"))

# name -> (comparison, target, issue). A figure with no target is informational.
TARGETS = {
    "ipv4_alloc_near_full_per_s": (">=", 1_000_000, 2),
    "ipv4_alloc_release_per_s": (">=", 5_000_000, 2),
    "ipv6_sparse_alloc_per_s": (">=", 1_000_000, 2),
    "mac_alloc_per_s": (">=", 1_000_000, 2),
    "ipv4_pool_bits_per_address": ("<=", 2.2, 2),
    "parse_ipv4_per_s": (">=", 20_000_000, 2),
    "parse_mac_per_s": (">=", 20_000_000, 2),
}

# Google Benchmark binaries and the figures each publishes as user counters.
BINARIES = ["alloc_bench"]


def unit_of(name):
    if name.endswith("_per_s"):
        return "1/s"
    if "bits_per" in name:
        return "bits"
    if "bytes_per" in name or name.endswith("_bytes"):
        return "bytes"
    if name.endswith("_ms"):
        return "ms"
    if name.endswith("_s"):
        return "s"
    return ""


def run_google_benchmark(binary):
    path = os.path.join(BIN, binary)
    out = subprocess.run(
        [path, f"--benchmark_repetitions={REPETITIONS}", "--benchmark_report_aggregates_only=true",
         "--benchmark_format=json", "--benchmark_min_time=0.2"],
        check=True, capture_output=True, text=True).stdout
    figures = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        for key, value in b.items():
            if key in TARGETS or re.search(r"_(per_s|per_address|bytes|ms|s)$", key):
                if isinstance(value, (int, float)) and key not in ("real_time", "cpu_time"):
                    figures[key] = value
    return figures


def fmt(value):
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def verdict(name, value):
    if name not in TARGETS:
        return "", ""
    op, target, _ = TARGETS[name]
    ok = value >= target if op == ">=" else value <= target
    return f"{op} {fmt(target)}", "yes" if ok else "**NO**"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def update_doc(figures):
    with open(DOC) as f:
        doc = f.read()
    begin, end = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
    if begin not in doc or end not in doc:
        sys.exit(f"{DOC}: markers {begin} / {end} missing")
    lines = [begin,
             f"Measured {datetime.date.today().isoformat()} with `make bench` on {cpu_model()}, "
             f"{os.cpu_count()} cores, {platform.system()} {platform.release()}; "
             f"median of {REPETITIONS} repetitions.", "",
             "| figure | value | unit | target | met |", "|---|---:|---|---|---|"]
    for name in sorted(figures, key=lambda n: (n not in TARGETS, n)):
        target, met = verdict(name, figures[name])
        lines.append(f"| `{name}` | {fmt(figures[name])} | {unit_of(name)} | {target} | {met} |")
    lines.append(end)
    doc = doc[:doc.index(begin)] + "\n".join(lines) + doc[doc.index(end) + len(end):]
    with open(DOC, "w") as f:
        f.write(doc)


def main():
    figures = {}
    for binary in BINARIES:
        figures.update(run_google_benchmark(binary))
    missed = []
    for name in sorted(figures):
        value = figures[name]
        text = f"{value:.0f}" if value >= 1000 else f"{value:.4g}"
        print(f"{name}: {text} {unit_of(name)}".rstrip())
        if verdict(name, figures[name])[1] == "**NO**":
            missed.append(name)
    for name in TARGETS:
        if name not in figures:
            missed.append(name + " (not measured)")
    update_doc(figures)
    if missed:
        print("targets missed: " + ", ".join(missed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
