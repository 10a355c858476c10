#!/usr/bin/env python3
"""What the loopback 3-member etcd itself absorbs of transactions shaped like the replicas'
allocation batches, measured beside the cluster figures in the same run (the machine's own limit
for cluster_alloc_per_s, as nginx is for the single node's API figure).

Each transaction stands for BATCH allocations, as a replica's group commit writes them: per
allocation a binding record (~700 bytes of JSON), its address's and its MAC's holder keys, its
event (~1.3 KB) and a compare that each holder key and the event's seq are unused; plus the
writer's mark. Writers post them through etcd's JSON gateway (what netledgerd speaks), one
transaction in flight each, while one watcher per member streams the prefix (as each replica
watches). No netledgerd runs: this is etcd alone.

- cluster_etcd_ceiling_per_s: allocations per second with 3 writers (one per member, like the 3
  replicas' committers), median of ROUNDS.
- cluster_etcd_ceiling_12_per_s: the same with 12 writers (several transactions in flight per
  replica), to show whether more concurrency would pay.

`python3 bench/etcd_ceiling.py` runs it alone on its own cluster.
"""
import base64
import http.client
import json
import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from cluster import Cluster  # noqa: E402

BATCH = 21          # 64 connections over 3 replicas: ~21 requests per group commit
SECONDS = 6.0
ROUNDS = 3
PREFIX = "/ceiling/"


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


BINDING = json.dumps({"id": 0, "pool": "blue", "instance": "x" * 12, "interface": "eth0",
                      "addresses": [{"ip": "10.64.0.1", "pool": "blue"}],
                      "mac": "02:00:00:00:00:01", "host": "", "state": "active",
                      "labels": {}, "created_at": 1, "updated_at": 1, "version": 1,
                      "pad": "p" * 420})
EVENT = json.dumps({"seq": 0, "time": 1, "actor": "token:bench", "op": "binding.allocate",
                    "subject": "binding:0", "keys": ["ip:10.64.0.1", "mac:02:00:00:00:00:01"],
                    "before": "", "after": BINDING})


def txn_body(writer, n):
    """Transaction `n` of `writer`: BATCH allocations with their compares."""
    compares, puts = [], []
    for k in range(BATCH):
        i = f"{writer:02d}{n:09d}{k:03d}"
        keys = [PREFIX + "ip/default\0" + i, PREFIX + "mac/" + i, PREFIX + "ev/" + i]
        for key in keys:
            compares.append({"key": b64(key), "target": "CREATE", "result": "EQUAL",
                             "create_revision": "0"})
        for key, value in ((PREFIX + "bind/" + i, BINDING), (keys[0], i), (keys[1], i),
                           (keys[2], EVENT)):
            puts.append({"request_put": {"key": b64(key), "value": b64(value)}})
    puts.append({"request_put": {"key": b64(PREFIX + f"w/{writer}"), "value": b64(str(n))}})
    return json.dumps({"compare": compares, "success": puts})


def watch(port, stop):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SECONDS * 4)
    body = json.dumps({"create_request": {"key": b64(PREFIX), "range_end": b64("/ceiling0")}})
    conn.request("POST", "/v3/watch", body)
    r = conn.getresponse()
    while not stop.is_set():
        if not r.read1(65536):
            break
    conn.close()


def writer(port, w, stop, counts):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    while not stop.is_set():
        conn.request("POST", "/v3/kv/txn", txn_body(w, n))
        r = conn.getresponse()
        answer = json.loads(r.read())
        if r.status != 200 or not answer.get("succeeded"):
            sys.exit(f"etcd ceiling: transaction refused: {r.status} {answer}")
        n += 1
        counts[w] += BATCH


def measure(c, writers, round_no):
    global PREFIX
    PREFIX = f"/ceiling/{writers}-{round_no}/"
    stop = threading.Event()
    counts = [0] * writers
    watchers = [threading.Thread(target=watch, args=(c.etcd_port + i, stop), daemon=True)
                for i in range(c.members)]
    for t in watchers:
        t.start()
    threads = [threading.Thread(target=writer, args=(c.etcd_port + w % c.members, w, stop, counts))
               for w in range(writers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    done = sum(counts)
    elapsed = time.monotonic() - t0
    stop.set()
    for t in threads:
        t.join()
    return done / elapsed


def run(bin_dir):
    c = Cluster(bin_dir, replicas=0, etcd_port=25790).start()
    try:
        figures = {}
        for writers, name in ((3, "cluster_etcd_ceiling_per_s"),
                              (12, "cluster_etcd_ceiling_12_per_s")):
            rates = sorted(measure(c, writers, r) for r in range(ROUNDS))
            figures[name] = rates[len(rates) // 2]
    finally:
        c.stop()
    return figures


if __name__ == "__main__":
    import cluster_bench
    cluster_bench.main(run)
