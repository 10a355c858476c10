#!/usr/bin/env python3
"""Replicas on etcd (issue #14), measured in one run against the same machine's single node:

- cluster_alloc_per_s: durable allocations per second through 3 netledgerd replicas on a
  3-member loopback etcd (fsync on, --max-txn-ops 1024), 64 keep-alive connections spread over
  the replicas (http_load, one request in flight per connection); all requests over the wall time
  of the slowest load process. Median of ROUNDS rounds, each on a fresh pool.
- cluster_alloc_p99_ms: the worst replica's p99 in the median round.
- cluster_single_sqlite_per_s: the same load (64 connections, same request count) on one
  netledgerd with its SQLite store, same run: the machine's own single-node figure.
- cluster_vs_sqlite_ratio: the first divided by the third (the issue's bar on a slower machine:
  >= 0.5).
- cluster_visible_p99_ms: allocate on replica 1, poll replica 2 until it serves the binding
  (200 samples), p99.
- cluster_failover_s: SIGKILL the replica that leads the work that runs once; seconds until
  another one's netledger_leader gauge says it leads (lease TTL 3 s + at most 0.4 s).

Loopback only. `python3 bench/cluster_bench.py` runs it alone (NETLEDGER_BIN: the build's bin/).
"""
import os
import subprocess
import sys
import tempfile
import time
import http.client
import json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from cluster import Cluster  # noqa: E402

ROUNDS = int(os.environ.get("CLUSTER_BENCH_ROUNDS", "3"))
PER_CONNECTION = int(os.environ.get("CLUSTER_BENCH_REQUESTS", "100"))
CONNECTIONS = 64
FIGURES = ("cluster_alloc_per_s", "cluster_alloc_p99_ms", "cluster_single_sqlite_per_s",
           "cluster_vs_sqlite_ratio", "cluster_visible_p99_ms", "cluster_failover_s")


def parse(out):
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def start_load(bin_dir, base_url, token, pool, tag, connections):
    return subprocess.Popen(
        [os.path.join(bin_dir, "http_load"), "--url", f"{base_url}/v1/bindings", "--method",
         "POST", "--body-template", f'{{"instance":"{tag}-{{n}}","pool":"{pool}"}}',
         "--connections", str(connections), "--requests", str(PER_CONNECTION), "--header",
         f"Authorization: Bearer {token}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(loads):
    """Each load's figures; exits when any request failed."""
    results = []
    for p in loads:
        out, err = p.communicate()
        got = parse(out)
        if p.returncode != 0 or got.get("non_2xx") != "0" or got.get("errors") != "0":
            sys.exit(f"cluster benchmark: requests failed:\n{out}\n{err}")
        results.append(got)
    return results


def single_sqlite(bin_dir, port):
    with tempfile.TemporaryDirectory(prefix="netledger-bench-") as d:
        env = dict(os.environ, NETLEDGER_BOOTSTRAP_TOKEN="bench-token")
        proc = subprocess.Popen([os.path.join(bin_dir, "netledgerd"), "--listen",
                                 f"127.0.0.1:{port}", "--data-dir", d], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            conn = wait_ready(port)
            post(conn, "bench-token", "/v1/pools", {"name": "blue", "cidr": "10.64.0.0/14"})
            t0 = time.monotonic()
            got = finish([start_load(bin_dir, f"http://127.0.0.1:{port}", "bench-token", "blue",
                                     "s", CONNECTIONS)])
            return int(got[0]["requests"]) / (time.monotonic() - t0)
        finally:
            proc.terminate()
            proc.wait()


def wait_ready(port):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/readyz")
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                return conn
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"cluster benchmark: netledgerd on {port} not ready")


def post(conn, token, path, body):
    conn.request("POST", path, json.dumps(body), {"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status not in (200, 201):
        sys.exit(f"cluster benchmark: POST {path}: {r.status} {data[:200]!r}")
    return json.loads(data)


def throughput_round(c, n):
    pool = f"blue{n}"
    status, body = c.post(0, "/v1/pools", json.dumps({"name": pool, "cidr": f"10.{64 + 4 * n}.0.0/14"}))
    if status != 201:
        sys.exit(f"cluster benchmark: pool: {status} {body}")
    deadline = time.monotonic() + 5
    while any(c.get(i, f"/v1/pools/{pool}")[0] != 200 for i in range(c.replicas)):
        if time.monotonic() > deadline:
            sys.exit("cluster benchmark: the pool did not reach every replica")
        time.sleep(0.05)
    share = [CONNECTIONS // c.replicas + (1 if i < CONNECTIONS % c.replicas else 0)
             for i in range(c.replicas)]
    t0 = time.monotonic()
    results = finish([start_load(c.bin, c.url(i), c.token, pool, f"r{n}-{i}", share[i])
                      for i in range(c.replicas)])
    elapsed = time.monotonic() - t0
    total = sum(int(r["requests"]) for r in results)
    return total / elapsed, max(float(r["p99_ms"]) for r in results)


def visible_p99(c, samples=200):
    a = http.client.HTTPConnection("127.0.0.1", c.http_port, timeout=10)
    b = http.client.HTTPConnection("127.0.0.1", c.http_port + 1, timeout=10)
    headers = {"Authorization": f"Bearer {c.token}"}
    lat = []
    for i in range(samples):
        made = post(a, c.token, "/v1/bindings", {"instance": f"vis-{i}", "pool": "blue0"})
        t0 = time.perf_counter()
        while True:
            b.request("GET", f"/v1/bindings/{made['id']}", headers=headers)
            r = b.getresponse()
            r.read()
            if r.status == 200:
                break
            if time.perf_counter() - t0 > 5:
                sys.exit("cluster benchmark: a write never became visible on another replica")
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    return lat[int(len(lat) * 0.99) - 1]


def failover_s(c):
    deadline = time.monotonic() + 10
    while (leader := c.leader()) is None:
        if time.monotonic() > deadline:
            sys.exit("cluster benchmark: no replica leads")
        time.sleep(0.05)
    c.kill_replica(leader)
    t0 = time.monotonic()
    while c.leader() is None:
        if time.monotonic() - t0 > 15:
            sys.exit("cluster benchmark: nobody took over from a killed leader")
        time.sleep(0.02)
    return time.monotonic() - t0


def run(bin_dir):
    single = single_sqlite(bin_dir, 18180)
    c = Cluster(bin_dir, etcd_port=24790, http_port=18181, token="bench-token").start()
    try:
        rounds = sorted((throughput_round(c, n) for n in range(ROUNDS)), key=lambda r: r[0])
        rate, p99 = rounds[len(rounds) // 2]
        figures = {"cluster_alloc_per_s": rate, "cluster_alloc_p99_ms": p99,
                   "cluster_single_sqlite_per_s": single,
                   "cluster_vs_sqlite_ratio": rate / single,
                   "cluster_visible_p99_ms": visible_p99(c),
                   "cluster_failover_s": failover_s(c)}
    finally:
        c.stop()
    return figures


def main(run_group):
    """Runs one cluster benchmark alone (NETLEDGER_BIN: the build's bin/) and prints its figures."""
    bin_dir = os.environ.get("NETLEDGER_BIN", os.path.join(ROOT, "build", "bin"))
    for name, value in run_group(bin_dir).items():
        print(f"{name}: {value:.4g}")


if __name__ == "__main__":
    main(run)
