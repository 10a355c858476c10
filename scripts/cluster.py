#!/usr/bin/env python3
"""A netledger cluster on loopback: a 3-member etcd (Debian etcd-server, fsync on) and three
netledgerd replicas on it, for trying replicas out (`make cluster`) and for the `cluster`
benchmark group (bench/cluster_bench.py imports Cluster).

    python3 scripts/cluster.py            # starts it, prints the URLs and the admin token,
                                          # stops everything on Ctrl-C
    NETLEDGER_BIN=build/bin python3 scripts/cluster.py --replicas 2

Everything listens on 127.0.0.1 only and lives in one temporary directory, removed on exit.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Cluster:
    """`members` etcd members and `replicas` netledgerd on loopback ports from `etcd_port` (client
    ports etcd_port+i, peer ports etcd_port+100+i) and `http_port` (replica i on http_port+i)."""

    def __init__(self, bin_dir, members=3, replicas=3, etcd_port=23790, http_port=8081,
                 token="cluster-token", txn_ops=1024, prefix="netledger"):
        self.bin = bin_dir
        self.dir = tempfile.mkdtemp(prefix="netledger-cluster-")
        self.members, self.replicas = members, replicas
        self.etcd_port, self.http_port = etcd_port, http_port
        self.token, self.txn_ops, self.prefix = token, txn_ops, prefix
        self.etcd = [None] * members
        self.nodes = [None] * replicas

    @property
    def endpoints(self):
        return ",".join(f"127.0.0.1:{self.etcd_port + i}" for i in range(self.members))

    @property
    def store_url(self):
        return f"etcd://{self.endpoints}/{self.prefix}?max-txn-ops={self.txn_ops}"

    def url(self, i):
        return f"http://127.0.0.1:{self.http_port + i}"

    def start(self):
        etcd = shutil.which("etcd", path=os.environ.get("PATH", "") + ":/usr/bin:/usr/sbin")
        if not etcd:
            sys.exit("etcd not found: apt-get install etcd-server (scripts/install-deps does)")
        self.etcd_bin = etcd
        for i in range(self.members):
            self.start_member(i)
        self.wait_for_etcd()
        for i in range(self.replicas):
            self.start_replica(i)
        return self

    def start_member(self, i):
        peers = ",".join(f"m{k}=http://127.0.0.1:{self.etcd_port + 100 + k}"
                         for k in range(self.members))
        log = open(os.path.join(self.dir, f"etcd{i}.log"), "ab")
        self.etcd[i] = subprocess.Popen(
            [self.etcd_bin, "--name", f"m{i}", "--data-dir", os.path.join(self.dir, f"etcd{i}"),
             "--listen-client-urls", f"http://127.0.0.1:{self.etcd_port + i}",
             "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port + i}",
             "--listen-peer-urls", f"http://127.0.0.1:{self.etcd_port + 100 + i}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.etcd_port + 100 + i}",
             "--initial-cluster", peers, "--initial-cluster-state", "new",
             "--max-txn-ops", str(self.txn_ops)],
            stdout=log, stderr=log, preexec_fn=os.setsid)

    def wait_for_etcd(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{self.etcd_port}/v3/kv/put",
                                             data=b'{"key":"cHJvYmU=","value":""}', method="POST")
                with urllib.request.urlopen(req, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"etcd did not elect a leader within {timeout} s (logs in {self.dir})")

    def start_replica(self, i):
        # The other replicas are its history peers (a replica added after etcd's log was
        # pruned copies the older events from them).
        env = dict(os.environ, NETLEDGER_BOOTSTRAP_TOKEN=self.token,
                   NETLEDGER_HISTORY_PEER_TOKEN=self.token)
        peers = ",".join(self.url(j) for j in range(len(self.nodes)) if j != i)
        log = open(os.path.join(self.dir, f"netledgerd{i}.log"), "ab")
        self.nodes[i] = subprocess.Popen(
            [os.path.join(self.bin, "netledgerd"), "--listen", f"127.0.0.1:{self.http_port + i}",
             "--data-dir", os.path.join(self.dir, f"node{i}"), "--store", self.store_url]
            + (["--history-peer", peers] if peers else []),
            env=env, stdout=log, stderr=log, preexec_fn=os.setsid)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.nodes[i].poll() is not None:
                self.stop()
                sys.exit(f"netledgerd {i} exited during start-up (log in {self.dir})")
            if self.get(i, "/readyz")[0] == 200:
                return
            time.sleep(0.1)
        self.stop()
        sys.exit(f"netledgerd {i} was not ready within 20 s (log in {self.dir})")

    def get(self, i, path):
        try:
            req = urllib.request.Request(self.url(i) + path,
                                         headers={"Authorization": f"Bearer {self.token}"})
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            return 0, ""

    def post(self, i, path, body):
        req = urllib.request.Request(self.url(i) + path, data=body.encode(), method="POST",
                                     headers={"Authorization": f"Bearer {self.token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def leader(self):
        """The replica whose /metrics says it leads, or None."""
        for i, p in enumerate(self.nodes):
            if p is not None and p.poll() is None and "\nnetledger_leader 1" in self.get(i, "/metrics")[1]:
                return i
        return None

    def kill_replica(self, i):
        os.killpg(self.nodes[i].pid, signal.SIGKILL)
        self.nodes[i].wait()
        self.nodes[i] = None

    def stop(self):
        for p in self.nodes + self.etcd:
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.nodes + self.etcd:
            if p is not None:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def interrupted(*_):
    raise KeyboardInterrupt


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--token", default=os.environ.get("NETLEDGER_BOOTSTRAP_TOKEN",
                                                          "cluster-" + os.urandom(12).hex()))
    args = parser.parse_args()
    bin_dir = os.environ.get("NETLEDGER_BIN", os.path.join(ROOT, "build", "bin"))
    cluster = Cluster(bin_dir, replicas=args.replicas, token=args.token).start()
    print(f"etcd members:  {cluster.endpoints}  (etcdctl --endpoints {cluster.endpoints} ...)")
    for i in range(args.replicas):
        print(f"replica {i + 1}:     {cluster.url(i)}   (dashboard: {cluster.url(i)}/)")
    print(f"admin token:   {cluster.token}")
    print(f"try:           NETLEDGER_URL={cluster.url(0)} NETLEDGER_TOKEN={cluster.token} "
          f"build/bin/netledger pool list")
    print(f"store URL:     {cluster.store_url}")
    print(f"logs:          {cluster.dir}   (removed on exit)\nCtrl-C stops everything.")
    signal.signal(signal.SIGTERM, interrupted)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
