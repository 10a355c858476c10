#!/usr/bin/env python3
"""Enforcement benchmark: what the agent's anti-spoofing table costs (docs/ENFORCEMENT.md).

- enforce_1000_bindings_ms: render and load the table for 1,000 bindings (100 ports, IPv4 +
  IPv6 each) in one transaction (bench/enforce_bench.cc, in a private namespace; median of 7).
- enforce_change_ms: one binding change (a VIP moves): the whole table re-rendered and
  replaced, as the agent does (median of 41).
- enforce_1000_forwards_ms, enforce_forward_change_ms: the same with 1,000 host-port forwards
  (table inet netledger, --port-maps) in the same transaction, and one mapping added or removed.
- enforce_forwarding_ratio: iperf3 TCP throughput between two veth ports of one bridge with the
  table loaded (enforce mode, both stations' pairs allowed) over the same without it,
  alternating ROUNDS times each, medians (target >= 0.95).

Network safety: three namespaces created here and deleted in a finally block, one bridge inside
one of them, 192.0.2.0/24 only, no route out; nothing in the root namespace. Bounded: 2 x ROUNDS
iperf3 runs of SECONDS seconds.

Needs root. `python3 bench/enforce_bench.py` runs it alone (NETLEDGER_BIN: the build's bin/).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys

TAG = "ne%05d" % (os.getpid() % 100000)
NODE, VM1, VM2 = TAG + "n", TAG + "a", TAG + "b"
MAC1, MAC2 = "02:00:00:00:e1:01", "02:00:00:00:e1:02"
ROUNDS = int(os.environ.get("ENFORCE_BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("ENFORCE_BENCH_SECONDS", "3"))
FIGURES = ("enforce_1000_bindings_ms", "enforce_change_ms", "enforce_1000_forwards_ms",
           "enforce_forward_change_ms", "enforce_forwarding_ratio", "enforce_forwarding_gbit_s")


def sh(*args, ns=None, check=True, timeout=120, stdin=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=stdin)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> {p.returncode}: {p.stderr.strip()}")
    return p


def skip_reason(bin_dir):
    if os.geteuid() != 0:
        return "needs root (network namespaces, nftables)"
    for tool in ("iperf3", "nft", "ip"):
        if not shutil.which(tool):
            return f"{tool} not installed (scripts/install-deps)"
    if not os.path.exists(os.path.join(bin_dir, "enforce_bench")):
        return "enforce_bench not built (make bench builds it)"
    return None


def topology_up():
    sh("ip", "netns", "add", NODE)
    sh("ip", "link", "add", "br0", "type", "bridge", ns=NODE)
    sh("ip", "link", "set", "br0", "up", ns=NODE)
    for vm, mac, ip, port in ((VM1, MAC1, "192.0.2.11", "p1"), (VM2, MAC2, "192.0.2.12", "p2")):
        sh("ip", "netns", "add", vm)
        sh("ip", "link", "add", port, "netns", NODE, "type", "veth", "peer", "name", "eth0",
           "netns", vm)
        sh("ip", "link", "set", port, "master", "br0", "up", ns=NODE)
        sh("ip", "link", "set", "eth0", "address", mac, "up", ns=vm)
        sh("ip", "addr", "add", ip + "/24", "dev", "eth0", ns=vm)


def topology_down():
    for ns in (VM1, VM2, NODE):
        sh("ip", "netns", "del", ns, check=False)


def throughput_gbit():
    out = sh("iperf3", "-c", "192.0.2.12", "-t", SECONDS, "-J", ns=VM1, timeout=SECONDS + 30)
    return json.loads(out.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9


def run(bin_dir):
    reason = skip_reason(bin_dir)
    if reason:
        print("enforce bench skipped: " + reason, file=sys.stderr)
        return {}
    out = subprocess.run([os.path.join(bin_dir, "enforce_bench")], capture_output=True,
                         text=True, check=True, timeout=300)
    figures = json.loads(out.stdout)
    script = subprocess.run([os.path.join(bin_dir, "enforce_bench"), "--script",
                             f"p1={MAC1}=192.0.2.11", f"p2={MAC2}=192.0.2.12"],
                            capture_output=True, text=True, check=True).stdout
    server = None
    try:
        topology_up()
        server = subprocess.Popen(["ip", "netns", "exec", VM2, "iperf3", "-s"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sh("ping", "-c", "3", "-W", "1", "192.0.2.12", ns=VM1)  # ARP settled, server up
        without, with_table = [], []
        for _ in range(ROUNDS):
            sh("nft", "-f", "-", ns=NODE, stdin="add table bridge netledger\n"
               "delete table bridge netledger\n")
            without.append(throughput_gbit())
            sh("nft", "-f", "-", ns=NODE, stdin=script)
            with_table.append(throughput_gbit())
        figures["enforce_forwarding_gbit_s"] = statistics.median(with_table)
        figures["enforce_forwarding_ratio"] = (statistics.median(with_table) /
                                               statistics.median(without))
    finally:
        if server:
            server.terminate()
            server.wait(10)
        topology_down()
    return figures


if __name__ == "__main__":
    BIN = os.environ.get("NETLEDGER_BIN", os.path.join(os.path.dirname(__file__), "../build/bin"))
    print(json.dumps(run(BIN), indent=1))
