#!/usr/bin/env python3
"""Runs the benchmark binaries, prints each headline figure as `name: value unit`, and rewrites
the measured block of docs/PERFORMANCE.md (between the bench:results markers).

Every figure is the median of repeated runs measured in this one invocation (the machine is
noisy: medians and same-run ratios, never a best case)."""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# NETLEDGER_BIN: another build directory's bin/ (e.g. a ccache dev build); default build/bin.
BIN = os.environ.get("NETLEDGER_BIN", os.path.join(ROOT, "build", "bin"))
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
    "api_durable_alloc_per_s": (">=", 20_000, 3),
    "api_alloc_p99_ms": ("<", 10, 18),
    "api_vs_nginx_ratio": (">=", 0.5, 18),
    "restart_1m_bindings_s": ("<=", 3, 3),
    "restart_vs_scan_ratio": ("<=", 2.0, 18),
    "bytes_per_binding": ("<=", 150, 18),
    "observations_ingest_per_s": (">=", 1_000_000, 18),
    "observation_to_conflict_ms": ("<", 1_000, 4),
    "observation_to_conflict_p99_ms": ("<", 10, 18),
    "oui_load_ms": ("<=", 50, 4),
    "pcap_frames_per_s": (">=", 5_000_000, 4),
    "pcap_vs_arpwatch_cpu_ratio": ("<=", 0.5, 18),
    "cni_vs_hostlocal_ratio": ("<=", 1.0, 18),
    "cni_500_pods_s": ("<", 10, 6),
    "cni_500_pods_vs_hostlocal_ratio": ("<=", 1.0, 18),
    "dashboard_overview_ms": ("<", 300, 7),
    "dashboard_heatmap_16_ms": ("<", 500, 7),
    "cluster_alloc_per_s": (">=", 10_000, 14),
    "cluster_alloc_p99_ms": ("<", 50, 14),
    "cluster_vs_sqlite_ratio": (">=", 0.5, 14),
    "cluster_visible_p99_ms": ("<", 100, 14),
    "cluster_failover_s": ("<=", 4, 14),
    "dhcp_vs_kea_ratio": (">=", 1.0, 15),
    "dhcp_half_rate_loss_pct": ("<=", 0.1, 15),
    "dhcp_half_rate_ra_ms": ("<=", 5, 15),
    "enforce_1000_bindings_ms": ("<", 1000, 16),
    "enforce_change_ms": ("<", 50, 16),
    "enforce_1000_forwards_ms": ("<", 1000, 16),
    "enforce_forward_change_ms": ("<", 50, 16),
    "enforce_forwarding_ratio": (">=", 0.95, 16),
}

# Figures of groups that were skipped (printed why): not "missed" in a full run.
SKIPPED = set()

# Google Benchmark binaries and the figures each publishes as user counters.
BINARIES = ["alloc_bench", "vendor_bench", "agent_bench"]


def unit_of(name):
    if name.endswith("_gbit_s"):
        return "Gbit/s"
    if name.endswith("_per_s"):
        return "1/s"
    if "bits_per" in name:
        return "bits"
    if "bytes_per" in name or name.endswith("_bytes"):
        return "bytes"
    if name.endswith("_ms"):
        return "ms"
    if name.endswith("_pct"):
        return "%"
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


class Netledgerd:
    """A netledgerd on a fresh port, with `token` as its bootstrap admin token."""

    def __init__(self, data_dir, token="bench-token"):
        import tempfile
        self.port_file = tempfile.mktemp(prefix="netledgerd-port-")
        env = dict(os.environ, NETLEDGER_BOOTSTRAP_TOKEN=token)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "netledgerd"), "--listen", "127.0.0.1:0", "--data-dir", data_dir,
             "--port-file", self.port_file], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                sys.exit("netledgerd exited during start-up")
            time.sleep(0.01)
        self.ready_after = time.monotonic() - self.started
        with open(self.port_file) as f:
            self.port = int(f.read())
        os.remove(self.port_file)
        self.token = token

    def rss_bytes(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def request(self, method, path, body=None):
        import urllib.request
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     data=body.encode() if body else None,
                                     headers={"Authorization": f"Bearer {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            return r.status

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def http_load(url, token):
    """bench/http_load with the API benchmark's load: 64 keep-alive connections x 1,000 POSTs of
    a fresh binding each. Returns its figures and the CPU share (of one core) it used itself."""
    cmd = [os.path.join(BIN, "http_load"), "--url", url, "--method", "POST",
           "--body-template", '{"instance":"vm-{n}","pools":["bench"]}',
           "--connections", "64", "--requests", "1000", "--header",
           f"Authorization: Bearer {token}"]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    wall = time.monotonic() - started
    got = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    if (proc.returncode != 0 or int(got.get("non_2xx", "1")) != 0 or
            int(got.get("errors", "1")) != 0):
        sys.exit(f"http_load {url}: requests failed:\n" + out)
    return got, (usage.ru_utime + usage.ru_stime) / wall


def run_api_benchmarks():
    """Durable allocations through the real server (64 keep-alive connections, fsync'd group
    commits), and Debian's nginx answering the same POSTs with a fixed 201 in the same run: the
    HTTP ceiling of this machine with this load tool. Alternated, medians of 3."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import nginx_peer
    rates, p99s, loads, peer_rates, peer_loads = [], [], [], [], []
    for _ in range(3):
        with tempfile.TemporaryDirectory(prefix="netledger-bench-") as d:
            server = Netledgerd(d)
            server.request("POST", "/v1/pools", '{"name":"bench","cidr":"10.0.0.0/8"}')
            got, load = http_load(f"http://127.0.0.1:{server.port}/v1/bindings", server.token)
            server.stop()
            rates.append(float(got["requests_per_s"]))
            p99s.append(float(got["p99_ms"]))
            loads.append(load)
        with tempfile.TemporaryDirectory(prefix="netledger-nginx-") as d:
            peer = nginx_peer.Nginx(d)
            try:
                got, load = http_load(f"http://127.0.0.1:{peer.port}/v1/bindings", "bench-token")
            finally:
                peer.stop()
            peer_rates.append(float(got["requests_per_s"]))
            peer_loads.append(load)
    return {"api_durable_alloc_per_s": median(rates), "api_alloc_p99_ms": median(p99s),
            "api_nginx_per_s": median(peer_rates),
            "api_vs_nginx_ratio": median(rates) / median(peer_rates),
            "api_load_cpu_pct": 100 * median(loads),
            "api_nginx_load_cpu_pct": 100 * median(peer_loads)}


def run_consistency_benchmarks(stations=2000, batch=1000, seconds=8.0):
    """Observations through the API into the engine, and how long a fresh conflict takes to show.

    `stations` bound VMs are ARPing (batches of `batch` observations posted back to back by 8
    keep-alive connections for `seconds`, in runs of the load tool of well under a second each);
    ingest is what the engine judged per second, start to drain, not just what the API queued.
    Meanwhile a probe posts a duplicate-IP pair for a new address every 100 ms and polls
    /v1/conflicts until it is listed: ~70 probes in 8 s, so the p99 is about their maximum."""
    import tempfile
    import threading
    import urllib.request
    with tempfile.TemporaryDirectory(prefix="netledger-obs-") as d:
        server = Netledgerd(d)
        server.request("POST", "/v1/pools", '{"name":"obs","cidr":"10.64.0.0/16"}')
        server.request("POST", "/v1/mac-pools", '{"name":"obsmac","prefix":"02:42:00:00:00:00/24"}')

        def call(method, path, body=None):
            req = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", method=method,
                                         data=body.encode() if body else None,
                                         headers={"Authorization": f"Bearer {server.token}",
                                                  "Content-Type": "application/json"})
            with urllib.request.urlopen(req) as r:
                return json.loads(r.read() or b"null")

        bound = []
        for i in range(stations):
            b = call("POST", "/v1/bindings", json.dumps(
                {"instance": f"vm-{i}", "pools": ["obs"], "mac_pool": "obsmac", "host": "node-1"}))
            bound.append((b["addresses"][0], b["mac"]))
        body = json.dumps({"observations": [
            {"ip": ip, "mac": mac, "host": "node-1", "interface": "tap0", "source": "agent",
             "kind": "reply"} for ip, mac in bound[:batch]]})
        body_file = os.path.join(d, "batch.json")
        with open(body_file, "w") as f:
            f.write(body)

        def judged():
            with urllib.request.urlopen(urllib.request.Request(
                    f"http://127.0.0.1:{server.port}/metrics")) as r:
                for line in r.read().decode().splitlines():
                    if line.startswith("netledger_observations_total "):
                        return float(line.split()[1])
            return 0.0

        latencies = []
        stop = threading.Event()

        def probe():
            n = 0
            while not stop.is_set():
                n += 1
                if n > 6 * 250:
                    return  # every probe needs an address no earlier probe used
                ip = f"10.64.{250 + (n - 1) // 250}.{(n - 1) % 250 + 1}"
                pair = json.dumps({"observations": [
                    {"ip": ip, "mac": "02:00:00:00:aa:01", "kind": "reply"},
                    {"ip": ip, "mac": "02:00:00:00:bb:02", "kind": "announcement"}]})
                t0 = time.monotonic()
                call("POST", "/v1/observations", pair)
                while time.monotonic() - t0 < 10:
                    page = call("GET", f"/v1/conflicts?kind=duplicate_ip&ip={ip}")
                    if page["items"]:
                        latencies.append((time.monotonic() - t0) * 1000)
                        break
                    time.sleep(0.002)
                stop.wait(0.1)

        # Runs of 40 batches per connection (~0.5 s at 700 k observations/s) until `seconds`
        # are up: the load lasts as long as the probe needs whatever the machine's speed.
        before = judged()
        t0 = time.monotonic()
        prober = threading.Thread(target=probe)
        prober.start()
        accepted = 0
        while time.monotonic() - t0 < seconds:
            out = subprocess.run(
                [os.path.join(BIN, "http_load"), "--url",
                 f"http://127.0.0.1:{server.port}/v1/observations", "--method", "POST",
                 "--body-file", body_file, "--connections", "8", "--requests", "40",
                 "--header", f"Authorization: Bearer {server.token}"],
                check=True, capture_output=True, text=True).stdout
            got = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
            accepted += (int(got["requests"]) - int(got.get("non_2xx", "0"))) * batch
        # Ingest counts only what the engine has judged: wait for the queue to drain.
        while judged() - before < accepted and time.monotonic() - t0 < 120:
            time.sleep(0.01)
        elapsed = time.monotonic() - t0
        stop.set()
        prober.join()
        server.stop()
        if not latencies:
            sys.exit("consistency benchmark: no probe conflict was ever listed")
        latencies.sort()
        return {"observations_ingest_per_s": accepted / elapsed,
                "observation_to_conflict_ms": median(latencies),
                "observation_to_conflict_p99_ms": latencies[min(len(latencies) - 1,
                                                                int(len(latencies) * 0.99))]}


def run_restart_benchmarks(count=1_000_000):
    """Start-up time and resident memory with a million bindings (seeded through the Store)."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="netledger-empty-") as empty:
        server = Netledgerd(empty)
        baseline = server.rss_bytes()
        server.stop()
    with tempfile.TemporaryDirectory(prefix="netledger-1m-") as d:
        subprocess.run([os.path.join(BIN, "seed_store"), d, str(count)], check=True,
                       capture_output=True)
        times, rss, scans = [], [], []
        for _ in range(3):
            scans.append(sqlite_scan_seconds(os.path.join(d, "ledger.db")))
            server = Netledgerd(d)
            times.append(server.ready_after)
            rss.append(server.rss_bytes())
            server.stop()
    return {"restart_1m_bindings_s": median(times),
            "restart_sqlite_scan_s": median(scans),
            "restart_vs_scan_ratio": median(times) / median(scans),
            "bytes_per_binding": (median(rss) - baseline) / count}


# What netledgerd reads at start-up (src/store/sqlite/sqlite_store.cc, load).
LOADED_TABLES = ["pools", "mac_pools", "tokens", "quarantine", "documents", "bindings"]


def sqlite_scan_seconds(db):
    """The machine's floor for a restart: Debian's sqlite3 shell reading every row of the tables
    start-up loads, once, sequentially, output discarded (wall time)."""
    sql = "".join(f"SELECT * FROM {t};" for t in LOADED_TABLES)
    started = time.monotonic()
    subprocess.run(["sqlite3", "-readonly", db, sql], check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def child_cpu_seconds(cmd):
    """Runs `cmd` to completion and returns the user + system CPU seconds it used (wait4: the
    child's own rusage, not this script's)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {proc.returncode}")
    return usage.ru_utime + usage.ru_stime


def offline_arpwatch(capture, dat):
    """arpwatch reading a capture: -d (no fork, no mail: reports on stdout, syslog lines on
    stderr), -N (no bogon reports), -f a fresh arp.dat. arpwatch resolves the host name of
    every address it reports; it runs in a network namespace of its own so those DNS queries
    never leave the machine (and fail at once instead of costing seconds each)."""
    arpwatch = shutil.which("arpwatch", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if not arpwatch:
        sys.exit("arpwatch is not installed (scripts/install-deps)")
    for unshare in (["unshare", "-n"], ["unshare", "-rn"]):
        if subprocess.run(unshare + ["true"], capture_output=True).returncode == 0:
            return unshare + [arpwatch, "-d", "-N", "-r", capture, "-f", dat]
    sys.exit("arpwatch comparison: `unshare -n` needs root or unprivileged user namespaces")


# What bench/pcap_gen seeds; analyze-pcap must report every one of them.
SEEDED_FINDINGS = {"duplicate_ip", "mac_flapping", "dad_conflict", "arp_poisoning",
                   "ethernet_arp_mismatch", "new_station"}


def run_pcap_benchmarks(frames=1_000_000):
    """`netledger analyze-pcap` on the seeded 1 M-frame capture, and arpwatch on the same file in
    the same run: frames per CPU second, and the ratio of the two CPU times (medians of 3)."""
    with tempfile.TemporaryDirectory(prefix="netledger-pcap-") as d:
        capture = os.path.join(d, "seeded.pcap")
        subprocess.run([os.path.join(BIN, "pcap_gen"), capture, str(frames)], check=True,
                       capture_output=True)
        analyze = [os.path.join(BIN, "netledger"), "analyze-pcap", capture, "-o", "json"]
        report = json.loads(subprocess.run(analyze, check=True, capture_output=True,
                                           text=True).stdout)
        missing = SEEDED_FINDINGS - {f["kind"] for f in report["findings"]}
        if missing:
            sys.exit(f"analyze-pcap missed seeded anomalies: {sorted(missing)}")
        ours, theirs = [], []
        for _ in range(3):
            ours.append(child_cpu_seconds(analyze))
            dat = os.path.join(d, "arp.dat")
            open(dat, "w").close()  # arpwatch wants an existing (empty) database
            theirs.append(child_cpu_seconds(offline_arpwatch(capture, dat)))
    return {"pcap_frames_per_s": frames / median(ours),
            "pcap_vs_arpwatch_cpu_ratio": median(ours) / median(theirs)}


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


def table_row(name, value):
    target, met = verdict(name, value)
    return f"| `{name}` | {fmt(value)} | {unit_of(name)} | {target} | {met} |"


def without_figures(note, figures):
    """A "Re-measured ...: `a`, `b`." note without the figures measured again now; None when
    none of its own are left."""
    head, found, names = note.partition(": `")
    if not found:
        return note  # not a note this tool wrote: kept as it is
    kept = [n for n in re.findall(r"`([a-z0-9_]+)`", "`" + names) if n not in figures]
    if not kept:
        return None
    return head + ": " + ", ".join(f"`{n}`" for n in kept) + "."


def update_doc(figures, only=None):
    """Rewrites the results block. With `only` (a partial run), the other rows and the header
    stay as they were and a note says what was re-measured when."""
    with open(DOC) as f:
        doc = f.read()
    begin, end = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
    if begin not in doc or end not in doc:
        sys.exit(f"{DOC}: markers {begin} / {end} missing")
    today = datetime.date.today().isoformat()
    if only:
        old = doc[doc.index(begin) + len(begin):doc.index(end)].strip("\n").split("\n")
        head = [line for line in old if not line.startswith("|") and
                not line.startswith("Re-measured") and line]
        rows = {m.group(1): line for line in old
                if (m := re.match(r"\| `([a-z0-9_]+)` \|", line))}
        rows.update({name: table_row(name, value) for name, value in figures.items()})
        names = sorted(rows, key=lambda n: (n not in TARGETS, n))
        notes = [note for line in old if line.startswith("Re-measured")
                 if (note := without_figures(line, figures))]
        notes.append(f"Re-measured {today} on {cpu_model()} with `python3 bench/report.py --only "
                     f"{','.join(only)}`: " + ", ".join(f"`{n}`" for n in sorted(figures)) + ".")
        lines = [begin] + head + ["", "| figure | value | unit | target | met |",
                                  "|---|---:|---|---|---|"]
        lines += [rows[n] for n in names] + [""] + notes + [end]
    else:
        lines = [begin,
                 f"Measured {today} with `make bench` on {cpu_model()}, "
                 f"{os.cpu_count()} cores, {platform.system()} {platform.release()}; "
                 f"median of {REPETITIONS} repetitions.", "",
                 "| figure | value | unit | target | met |", "|---|---:|---|---|---|"]
        for name in sorted(figures, key=lambda n: (n not in TARGETS, n)):
            lines.append(table_row(name, figures[name]))
        lines.append(end)
    doc = doc[:doc.index(begin)] + "\n".join(lines) + doc[doc.index(end) + len(end):]
    with open(DOC, "w") as f:
        f.write(doc)


def run_cni_benchmarks():
    """bench/cni_bench.py: netledger-cni vs host-local through the reference bridge plugin, in
    network namespaces it creates and deletes. Needs root; skipped (with a message) otherwise."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import cni_bench
    figures = cni_bench.run(BIN)
    if not figures:
        SKIPPED.update(cni_bench.FIGURES)
    return figures


def run_dashboard_benchmarks():
    """tests/web/dashboard_perf.mjs: a netledgerd with 100 pools and 100,000 bindings, the
    dashboard in headless Chromium; the overview until usable and a /16 heat map until drawn
    (medians of repeated page loads, from the app's performance marks)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "perf.json")
        env = dict(os.environ, NETLEDGER_BIN=BIN, PERF_JSON=out,
                   ARTIFACTS_DIR=os.path.join(tmp, "artifacts"))
        subprocess.run(["node", os.path.join(ROOT, "tests", "web", "dashboard_perf.mjs")],
                       env=env, check=True)
        with open(out) as f:
            figures = json.load(f)
    return {k: float(v) for k, v in figures.items() if k.startswith("dashboard_")}


def run_cluster_benchmarks():
    """bench/cluster_bench.py: 3 replicas on a 3-member loopback etcd against one SQLite node,
    same run (throughput, p99, write-to-visible, singleton failover); bench/etcd_ceiling.py: what
    that etcd alone absorbs of transactions shaped like the replicas' (the machine's limit)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import cluster_bench
    import etcd_ceiling
    figures = cluster_bench.run(BIN)
    figures.update(etcd_ceiling.run(BIN))
    figures["cluster_vs_etcd_ceiling_ratio"] = (figures["cluster_alloc_per_s"] /
                                                figures["cluster_etcd_ceiling_per_s"])
    return figures


def run_dhcp_benchmarks():
    """bench/dhcp_bench.py: DORA capacity of netledgerd and Kea with perfdhcp over a veth pair
    between namespaces it creates and deletes (alternating, medians). Needs root."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dhcp_bench
    figures = dhcp_bench.run(BIN)
    if not figures:
        SKIPPED.update(dhcp_bench.FIGURES)
    return figures


def run_enforce_benchmarks():
    """bench/enforce_bench.py: the anti-spoofing table loaded for 1,000 bindings, one change,
    and iperf3 between two bridge ports with and without it (namespaces it creates and deletes).
    Needs root; skipped (with a message) otherwise."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import enforce_bench
    figures = enforce_bench.run(BIN)
    if not figures:
        SKIPPED.update(enforce_bench.FIGURES)
    return figures


GROUPS = {
    "micro": lambda: {k: v for b in BINARIES for k, v in run_google_benchmark(b).items()},
    "api": run_api_benchmarks,
    "consistency": run_consistency_benchmarks,
    "restart": run_restart_benchmarks,
    "pcap": run_pcap_benchmarks,
    "cni": run_cni_benchmarks,
    "dashboard": run_dashboard_benchmarks,
    "cluster": run_cluster_benchmarks,
    "dhcp": run_dhcp_benchmarks,
    "enforce": run_enforce_benchmarks,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="comma-separated groups to run (" + ",".join(GROUPS) +
                        "); the other rows of docs/PERFORMANCE.md are kept")
    parser.add_argument("--no-doc", action="store_true",
                        help="print the figures only (A/B runs against another build's bin/)")
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    if only and not set(only) <= set(GROUPS):
        parser.error(f"--only: unknown group in {args.only!r}")
    figures = {}
    for group, run in GROUPS.items():
        if not only or group in only:
            figures.update(run())
    missed = []
    for name in sorted(figures):
        value = figures[name]
        text = f"{value:.0f}" if value >= 1000 else f"{value:.4g}"
        print(f"{name}: {text} {unit_of(name)}".rstrip())
        if verdict(name, figures[name])[1] == "**NO**":
            missed.append(name)
    for name in TARGETS:
        if name not in figures and not only and name not in SKIPPED:
            missed.append(name + " (not measured)")
    if not args.no_doc:
        update_doc(figures, only)
    if missed:
        print("targets missed: " + ", ".join(missed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
