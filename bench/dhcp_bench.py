#!/usr/bin/env python3
"""DHCP benchmark: DORA capacity of netledgerd and of Kea 2.2 (Debian kea-dhcp4-server, memfile),
measured in one run with perfdhcp (Debian kea-admin) from a client namespace over a veth pair.

perfdhcp acts as a relay (giaddr = its address, replies to its port 67), so both servers serve
the same relayed traffic for the same subnet and the same clients. For each offered rate,
perfdhcp runs STEP_S seconds (then waits 0.5 s for answers in flight); the end-to-end loss is 1 - ACKs received / DISCOVERs sent.
Capacity (ISC's criterion) = the highest offered rate whose loss stays <= 2.5 %: rates double
from START until one fails, then a bisection narrows it (BISECT steps). The two servers
alternate, ROUNDS rounds, medians. Then each runs at half its own capacity: loss and the mean
REQUEST-ACK round trip.

- dhcp_capacity_per_s: netledgerd, which fsyncs every lease (group commit) before its ACK.
- dhcp_kea_capacity_per_s: Kea, memfile with persistence (appends, no fsync).
- dhcp_vs_kea_ratio: the first over the second (target >= 1.0, bar 0.8).
- dhcp_half_rate_loss_pct, dhcp_half_rate_ra_ms: netledgerd at half its capacity (targets
  <= 0.1 %, <= 5 ms); the Kea figures beside them are informational.

Network safety: two namespaces created here and deleted in a finally block, a veth between
them, 198.51.100.0/24 only, no route out; nothing in the root namespace. Bounded: at most
ROUNDS x 2 x (doublings + BISECT) steps of STEP_S seconds.

Needs root. `python3 bench/dhcp_bench.py` runs it alone (NETLEDGER_BIN: the build's bin/).
"""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TAG = "nb%05d" % (os.getpid() % 100000)
SERVER_NS, CLIENT_NS = TAG + "s", TAG + "c"
SERVER_IP, CLIENT_IP = "198.51.100.1", "198.51.100.2"
CLIENTS = 240  # distinct client MACs: the subnet holds them all
START = int(os.environ.get("DHCP_BENCH_START", "500"))
STEP_S = int(os.environ.get("DHCP_BENCH_STEP_S", "4"))
ROUNDS = int(os.environ.get("DHCP_BENCH_ROUNDS", "3"))
BISECT = 3
MAX_RATE = 64000
LOSS_LIMIT = 2.5
FIGURES = ("dhcp_capacity_per_s", "dhcp_kea_capacity_per_s", "dhcp_vs_kea_ratio",
           "dhcp_half_rate_loss_pct", "dhcp_half_rate_ra_ms", "dhcp_kea_half_rate_loss_pct",
           "dhcp_kea_half_rate_ra_ms")
TOKEN = "dhcp-bench-token"


def sh(*args, ns=None, check=True, timeout=120):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> {p.returncode}: {p.stderr.strip()}")
    return p


def skip_reason(bin_dir):
    if os.geteuid() != 0:
        return "needs root (it creates network namespaces)"
    for tool in ("perfdhcp", "kea-dhcp4"):
        if shutil.which(tool) is None:
            return f"{tool} missing: install kea-admin and kea-dhcp4-server (scripts/install-deps)"
    if not os.access(os.path.join(bin_dir, "netledgerd"), os.X_OK):
        return "netledgerd not built"
    return None


def topology_up():
    sh("ip", "netns", "add", SERVER_NS)
    sh("ip", "netns", "add", CLIENT_NS)
    for ns in (SERVER_NS, CLIENT_NS):
        sh("ip", "link", "set", "lo", "up", ns=ns)
    sh("ip", "link", "add", "srv0", "netns", SERVER_NS, "type", "veth", "peer", "cli0", "netns",
       CLIENT_NS)
    sh("ip", "addr", "add", SERVER_IP + "/24", "dev", "srv0", ns=SERVER_NS)
    sh("ip", "addr", "add", CLIENT_IP + "/24", "dev", "cli0", ns=CLIENT_NS)
    sh("ip", "link", "set", "srv0", "up", ns=SERVER_NS)
    sh("ip", "link", "set", "cli0", "up", ns=CLIENT_NS)


def topology_down():
    for ns in (CLIENT_NS, SERVER_NS):
        sh("ip", "netns", "del", ns, check=False)


class Netledgerd:
    name = "netledgerd"

    def __init__(self, bin_dir, tmp):
        self.bin_dir, self.root = bin_dir, tmp
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1  # every measurement starts from an empty ledger, as Kea's from no leases
        self.tmp = os.path.join(self.root, f"netledgerd-{self.starts}")
        os.makedirs(self.tmp)
        port_file = os.path.join(self.tmp, "port")
        log = open(os.path.join(self.tmp, "netledgerd.log"), "a")
        env = dict(os.environ, NETLEDGER_BOOTSTRAP_TOKEN=TOKEN)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", SERVER_NS, os.path.join(self.bin_dir, "netledgerd"),
             "--listen", "127.0.0.1:0", "--data-dir", os.path.join(self.tmp, "data"),
             "--port-file", port_file, "--dhcp-relay-address", SERVER_IP],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while not (os.path.exists(port_file) and os.path.getsize(port_file) > 0):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("netledgerd did not start")
            time.sleep(0.05)
        port = open(port_file).read().strip()
        pool = {"name": "bench", "cidr": "198.51.100.0/24", "gateway": SERVER_IP,
                "ranges": ["198.51.100.10-198.51.100.250"], "dhcp": {"lease_s": 3600}}
        sh("curl", "-sf", "-X", "POST", f"http://127.0.0.1:{port}/v1/pools", "-H",
           "Authorization: Bearer " + TOKEN, "-H", "Content-Type: application/json", "-d",
           json.dumps(pool), ns=SERVER_NS)
        time.sleep(1.2)  # the DHCP server reads its pools at most once a second

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


class Kea:
    name = "kea"

    def __init__(self, tmp):
        self.root = tmp
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.tmp = os.path.join(self.root, f"kea-{self.starts}")
        os.makedirs(self.tmp)
        conf = {"Dhcp4": {
            "interfaces-config": {"interfaces": [f"srv0/{SERVER_IP}"], "dhcp-socket-type": "udp"},
            "lease-database": {"type": "memfile", "persist": True, "lfc-interval": 0,
                               "name": os.path.join(self.tmp, "kea-leases4.csv")},
            "valid-lifetime": 3600,
            "subnet4": [{"subnet": "198.51.100.0/24",
                         "pools": [{"pool": "198.51.100.10 - 198.51.100.250"}],
                         "option-data": [{"name": "routers", "data": SERVER_IP}]}],
            "loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                         "output_options": [{"output": os.path.join(self.tmp, "kea.log")}]}]}}
        path = os.path.join(self.tmp, "kea-dhcp4.conf")
        with open(path, "w") as f:
            json.dump(conf, f)
        env = dict(os.environ, KEA_PIDFILE_DIR=self.tmp, KEA_LOCKFILE_DIR=self.tmp)
        self.proc = subprocess.Popen(["ip", "netns", "exec", SERVER_NS, "kea-dhcp4", "-c", path],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=env)
        time.sleep(1.5)
        if self.proc.poll() is not None:
            raise RuntimeError("kea-dhcp4 did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


def perfdhcp(rate, seconds=STEP_S):
    """One perfdhcp run at `rate` DORA/s: (loss %, mean REQUEST-ACK round trip in ms)."""
    # -W: after the period, half a second for the answers still in flight (not counted lost).
    p = sh("perfdhcp", "-4", "-l", "cli0", "-r", rate, "-p", seconds, "-R", CLIENTS, "-W",
           500000, SERVER_IP,
           ns=CLIENT_NS, check=False, timeout=seconds + 60)
    sections = re.split(r"\*\*\*Statistics for: ", p.stdout)
    stats = {}
    for s in sections[1:]:
        name = s.split("***")[0].strip()
        sent = re.search(r"sent packets: (\d+)", s)
        received = re.search(r"received packets: (\d+)", s)
        delay = re.search(r"avg delay: ([\d.]+) ms", s)
        stats[name] = (int(sent.group(1)) if sent else 0, int(received.group(1)) if received else 0,
                       float(delay.group(1)) if delay else float("nan"))
    discovers = stats.get("DISCOVER-OFFER", (0, 0, 0))[0]
    acks = stats.get("REQUEST-ACK", (0, 0, 0))[1]
    if discovers == 0:
        raise RuntimeError("perfdhcp sent nothing: " + p.stdout[-500:] + p.stderr[-500:])
    return 100.0 * (1 - acks / discovers), stats.get("REQUEST-ACK", (0, 0, float("nan")))[2]


def udp_errors(before=None):
    """UDP receive-buffer drops per namespace (/proc/net/snmp), to say which side lost packets;
    with `before`, the increase since."""
    out = {}
    for ns in (SERVER_NS, CLIENT_NS):
        lines = [l.split() for l in sh("cat", "/proc/net/snmp", ns=ns).stdout.splitlines()
                 if l.startswith("Udp:")]
        row = dict(zip(lines[0][1:], lines[1][1:]))
        out["server" if ns == SERVER_NS else "client"] = int(row.get("RcvbufErrors", 0))
    if before:
        out = {k: v - before[k] for k, v in out.items()}
    return out


def capacity():
    """The highest rate with loss <= LOSS_LIMIT: doubling, then bisection."""
    good, bad = 0, None
    rate = START
    while rate <= MAX_RATE:
        loss, _ = perfdhcp(rate)
        if loss > LOSS_LIMIT:
            bad = rate
            break
        good = rate
        rate *= 2
    if bad is None:
        return good
    for _ in range(BISECT):
        mid = (good + bad) // 2
        loss, _ = perfdhcp(mid)
        if loss > LOSS_LIMIT:
            bad = mid
        else:
            good = mid
    return good


def run(bin_dir):
    reason = skip_reason(bin_dir)
    if reason:
        print("dhcp bench skipped: " + reason, file=sys.stderr)
        return {}
    tmp = tempfile.mkdtemp(prefix="netledger-dhcp-bench-")
    caps = {"netledgerd": [], "kea": []}
    half = {}
    try:
        topology_up()
        servers = [Netledgerd(bin_dir, tmp), Kea(tmp)]
        for _ in range(ROUNDS):
            for server in servers:
                server.start()
                try:
                    perfdhcp(START, 2)  # warm-up: every client gets its lease once
                    caps[server.name].append(capacity())
                finally:
                    server.stop()
        for server in servers:
            rate = max(1, statistics.median(caps[server.name]) // 2)
            server.start()
            try:
                perfdhcp(START, 2)  # the same warm-up as for the capacity
                before = udp_errors()
                half[server.name] = perfdhcp(int(rate), 2 * STEP_S)
                print(f"dhcp half rate ({rate}/s) {server.name}: loss {half[server.name][0]:.3f} %,"
                      f" UDP receive-buffer drops during it {udp_errors(before)}", file=sys.stderr)
            finally:
                server.stop()
    finally:
        topology_down()
        shutil.rmtree(tmp, ignore_errors=True)
    ours, kea = statistics.median(caps["netledgerd"]), statistics.median(caps["kea"])
    print(f"dhcp capacities: netledgerd {caps['netledgerd']}, kea {caps['kea']}", file=sys.stderr)
    return {
        "dhcp_capacity_per_s": float(ours),
        "dhcp_kea_capacity_per_s": float(kea),
        "dhcp_vs_kea_ratio": ours / kea if kea else float("nan"),
        "dhcp_half_rate_loss_pct": half["netledgerd"][0],
        "dhcp_half_rate_ra_ms": half["netledgerd"][1],
        "dhcp_kea_half_rate_loss_pct": half["kea"][0],
        "dhcp_kea_half_rate_ra_ms": half["kea"][1],
    }


if __name__ == "__main__":
    ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    figures = run(os.environ.get("NETLEDGER_BIN", os.path.join(ROOT, "build", "bin")))
    for name, value in figures.items():
        print(f"{name}: {value:.4g}")
