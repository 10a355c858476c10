#!/usr/bin/env python3
"""CNI benchmarks: netledger-cni against the reference host-local IPAM, both driven by the
reference `bridge` plugin (Debian containernetworking-plugins) in one run.

- cni_add_del_p50_ms: median wall time of one ADD + DEL through `bridge` with netledger-cni as
  its IPAM (netledgerd in the node namespace), over N pairs.
- cni_hostlocal_add_del_p50_ms: the same through `bridge` with host-local, same run, same bridge.
- cni_vs_hostlocal_ratio: the first divided by the second (target <= 1.0).
- cni_500_pods_s: (median of 3 rounds) 500 pods ADDed 8 at a time, each through `bridge` + netledger-cni IPAM and then
  netledger-cni chained (the production conflist: the pod's IP, MAC and node in one binding).
- cni_500_pods_hostlocal_s: the same 500 ADDs through `bridge` + host-local, same run, same
  bridges and sandboxes.
- cni_500_pods_vs_hostlocal_ratio: the first divided by the second (target <= 1.0).
- cni_exec_cpu_ms, cni_hostlocal_exec_cpu_ms: CPU of one exec of each IPAM plugin answering
  VERSION (median of 100): the start-up every ADD and DEL pays.

Network safety, as tests/netns/cni_netns_test.py (whose Lab this reuses): every namespace is
created here with `ip netns add` and deleted in a finally block; the bridge and the host-side
veths live in the node namespace; only documentation prefixes (198.51.100.0/24, 203.0.113.0/24);
ipMasq off and no uplink, so there is no route out; nothing is created in the root namespace.
The plugins are exec'd directly from threads that are inside the node namespace, as a runtime
execs them on a node (no `ip netns exec` wrapper, whose cost would dilute the ratio); every exec
first checks that its thread really is in the node namespace.

Needs root. `python3 bench/cni_bench.py` runs it alone (NETLEDGER_BIN: the build's bin/).
"""
import concurrent.futures
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_MODULE = os.path.join(ROOT, "tests", "netns", "cni_netns_test.py")
BRIDGES = ("nlbench0", "nlbench1", "nlbench2")  # pairs; pods in pool a; pods in pool b
PAIRS = int(os.environ.get("CNI_BENCH_PAIRS", "100"))
PODS = int(os.environ.get("CNI_BENCH_PODS", "500"))
PARALLEL = 8
ROUNDS = int(os.environ.get("CNI_BENCH_ROUNDS", "3"))  # of the 500-pod runs; median
FIGURES = ("cni_add_del_p50_ms", "cni_hostlocal_add_del_p50_ms", "cni_vs_hostlocal_ratio",
           "cni_500_pods_s", "cni_500_pods_hostlocal_s", "cni_500_pods_vs_hostlocal_ratio",
           "cni_exec_cpu_ms", "cni_hostlocal_exec_cpu_ms")


def load_helpers(bin_dir):
    """tests/netns/cni_netns_test.py as a module (its Lab, run, mac_of), pointed at `bin_dir`."""
    spec = importlib.util.spec_from_file_location("cni_netns_test", TEST_MODULE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.BIN = os.path.abspath(bin_dir)
    return mod


def skip_reason(bin_dir):
    if os.geteuid() != 0:
        return "needs root (it creates network namespaces)"
    cni_dir = os.environ.get("CNI_PLUGIN_DIR", "/usr/lib/cni")
    for p in ("bridge", "host-local"):
        if not os.access(os.path.join(cni_dir, p), os.X_OK):
            return f"{cni_dir}/{p} missing: install containernetworking-plugins (scripts/install-deps)"
    for b in ("netledgerd", "netledger-cni"):
        if not os.access(os.path.join(bin_dir, b), os.X_OK):
            return f"{bin_dir}/{b} missing: build it first"
    return None


class Bench:
    def __init__(self, helpers):
        self.h = helpers
        self.lab = helpers.Lab()
        self.node_ino = None
        self.hostlocal_dir = os.path.join(self.lab.tmp, "host-local")

    def up(self):
        self.lab.up()  # node namespace, setns into it, netledgerd on its loopback
        self.node_ino = os.stat(f"/var/run/netns/{self.h.NODE_NS}").st_ino
        self.assert_in_node_ns()

    def assert_in_node_ns(self):
        if os.stat("/proc/thread-self/ns/net").st_ino != self.node_ino:
            raise RuntimeError("refusing to exec a CNI plugin outside the node namespace")

    def exec_plugin(self, plugin, command, ns, conf, container):
        """Execs a plugin as a runtime does, from this thread (in the node namespace); returns
        (exit code, parsed stdout or None, wall seconds)."""
        self.assert_in_node_ns()
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
               "CNI_COMMAND": command, "CNI_CONTAINERID": container,
               "CNI_NETNS": f"/var/run/netns/{ns}", "CNI_IFNAME": "eth0",
               "CNI_PATH": f"{self.h.CNI_DIR}:{self.h.BIN}"}
        path = os.path.join(self.h.BIN if plugin == "netledger-cni" else self.h.CNI_DIR, plugin)
        t0 = time.monotonic()
        p = subprocess.run([path], input=json.dumps(conf), capture_output=True, text=True,
                           env=env, timeout=60)
        elapsed = time.monotonic() - t0
        out = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, out, elapsed

    def must(self, plugin, command, ns, conf, container):
        rc, out, elapsed = self.exec_plugin(plugin, command, ns, conf, container)
        if rc != 0:
            raise RuntimeError(f"{plugin} {command} {container}: exit {rc}: {out}")
        return out, elapsed

    def bridge_conf(self, name, ipam, bridge=BRIDGES[0]):
        return {"cniVersion": "1.0.0", "name": name, "type": "bridge", "bridge": bridge,
                "isGateway": True, "ipMasq": False, "ipam": ipam}

    def netledger_ipam(self, pools):
        return {"type": "netledger-cni", "server": self.lab.url,
                "tokenFile": self.lab.token_file, "pools": pools, "host": self.h.NODE}

    def hostlocal_ipam(self):
        return {"type": "host-local", "dataDir": self.hostlocal_dir,
                "ranges": [[{"subnet": "198.51.100.0/24", "gateway": "198.51.100.1"}]]}

    def create_pool(self, body):
        status, out = self.lab.api("POST", "/v1/pools", body)
        if status != 201:
            raise RuntimeError(f"POST /v1/pools {body['name']}: {status} {out}")

    def add_del_pairs(self):
        """N ADD+DEL pairs per IPAM, interleaved (alternating which goes first) so both see the
        same machine noise. Same bridge, same subnet and gateway for both (the bridge plugin
        keeps one IPv4 subnet per bridge; no two pods are ever up at once). One sandbox per
        IPAM, reused: DEL removes the pod's veth."""
        self.create_pool({"name": "bench-pairs", "cidr": "198.51.100.0/24",
                          "gateway": "198.51.100.1"})
        confs = {"netledger": self.bridge_conf("bench-nl", self.netledger_ipam(["bench-pairs"])),
                 "host-local": self.bridge_conf("bench-hl", self.hostlocal_ipam())}
        sandboxes = {"netledger": self.lab.sandbox(9000), "host-local": self.lab.sandbox(9001)}
        times = {"netledger": [], "host-local": []}
        # One warm-up pair each (page cache, the bridge's creation) outside the figures.
        for kind in ("netledger", "host-local"):
            self.must("bridge", "ADD", sandboxes[kind], confs[kind], f"warm-{kind}")
            self.must("bridge", "DEL", sandboxes[kind], confs[kind], f"warm-{kind}")
        for i in range(PAIRS):
            order = ["netledger", "host-local"] if i % 2 else ["host-local", "netledger"]
            for kind in order:
                cid = f"pair-{kind}-{i}"
                _, t_add = self.must("bridge", "ADD", sandboxes[kind], confs[kind], cid)
                _, t_del = self.must("bridge", "DEL", sandboxes[kind], confs[kind], cid)
                times[kind].append((t_add + t_del) * 1000)
        nl = statistics.median(times["netledger"])
        hl = statistics.median(times["host-local"])
        self.h.run("ip", "link", "del", BRIDGES[0], ns=self.h.NODE_NS)
        return {"cni_add_del_p50_ms": nl, "cni_hostlocal_add_del_p50_ms": hl,
                "cni_vs_hostlocal_ratio": nl / hl}

    def pods_500(self):
        """PODS pods ADDed PARALLEL at a time through bridge + netledger-cni IPAM, then
        netledger-cni chained (records the pod MAC and the node); before that, in the same
        sandboxes and on the same bridges, PODS pods through bridge + host-local (the peer of
        cni_500_pods_vs_hostlocal_ratio). Half the pods on each
        of two bridges, 198.51.100.0/24 and 203.0.113.0/24; the ledger pools in a network of
        their own (the pairs' released addresses sit in quarantine in `default`)."""
        names = [self.lab.sandbox(i) for i in range(PODS)]
        chained = {"cniVersion": "1.0.0", "name": "bench-pods", "type": "netledger-cni",
                   "server": self.lab.url, "tokenFile": self.lab.token_file, "host": self.h.NODE}

        halves = (("bench-a", "198.51.100.0/24", "198.51.100.1", BRIDGES[1]),
                  ("bench-b", "203.0.113.0/24", "203.0.113.1", BRIDGES[2]))
        rnd = [0]  # the round: each has its own ledger network and pools (quarantine stays)

        def conf(kind, i):
            pool, cidr, gateway, bridge = halves[0 if i < PODS // 2 else 1]
            if kind == "netledger":
                ipam = self.netledger_ipam([f"{pool}-r{rnd[0]}"])
            else:
                ipam = {"type": "host-local", "dataDir": self.hostlocal_dir,
                        "ranges": [[{"subnet": cidr, "gateway": gateway}]]}
            return self.bridge_conf("bench-pods-" + kind, ipam, bridge)

        def cid(kind, i):
            return f"{kind}-r{rnd[0]}-pod-{i}"

        def add(kind, i):
            result, _ = self.must("bridge", "ADD", names[i], conf(kind, i), cid(kind, i))
            if kind == "netledger":
                self.must("netledger-cni", "ADD", names[i], dict(chained, prevResult=result),
                          cid(kind, i))
            return result["ips"][0]["address"]

        def timed_adds(kind):
            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
                addresses = list(pool.map(lambda i: add(kind, i), range(PODS)))
            elapsed = time.monotonic() - t0
            if len(set(addresses)) != PODS:
                raise RuntimeError(f"{PODS} pods ({kind}): duplicate addresses handed out")
            return elapsed

        def del_all(kind):
            with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
                list(pool.map(lambda i: self.must("bridge", "DEL", names[i], conf(kind, i),
                                                  cid(kind, i)), range(PODS)))

        ours, hostlocal = [], []
        for rnd[0] in range(ROUNDS):
            for name, cidr, gateway, _ in halves:
                self.create_pool({"name": f"{name}-r{rnd[0]}", "network": f"bench500-r{rnd[0]}",
                                  "cidr": cidr, "gateway": gateway})
            hostlocal.append(timed_adds("host-local"))
            del_all("host-local")
            ours.append(timed_adds("netledger"))
            # Spot check the ledger row of a few pods: address, pod MAC, node.
            for i in (0, PODS // 2, PODS - 1):
                live = self.lab.live_bindings(cid("netledger", i))
                if (len(live) != 1 or live[0]["mac"] != self.h.mac_of(names[i]) or
                        live[0]["host"] != self.h.NODE):
                    raise RuntimeError(f"{cid('netledger', i)}: unexpected ledger row {live}")
            del_all("netledger")
        print(f"cni: {PODS} pods, {ROUNDS} rounds: netledger-cni "
              f"{', '.join(f'{t:.2f}' for t in ours)} s; host-local "
              f"{', '.join(f'{t:.2f}' for t in hostlocal)} s", flush=True)
        return {"cni_500_pods_s": statistics.median(ours),
                "cni_500_pods_hostlocal_s": statistics.median(hostlocal),
                "cni_500_pods_vs_hostlocal_ratio":
                    statistics.median(ours) / statistics.median(hostlocal)}

    def down(self):
        self.lab.down()  # netledgerd, every sandbox, the node namespace (and its bridge), tmp


def exec_cpu_ms(binary, runs=100):
    """Median CPU (user + system, the child's own rusage) of one exec of a CNI plugin answering
    VERSION: its start-up cost, paid twice per pod (ADD and DEL)."""
    env = {"CNI_COMMAND": "VERSION", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    costs = []
    for _ in range(runs):
        with open(os.devnull, "rb") as stdin, open(os.devnull, "wb") as out:
            proc = subprocess.Popen([binary], stdin=stdin, stdout=out, stderr=out, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here
        if proc.returncode != 0:
            raise RuntimeError(f"{binary} VERSION: exit {proc.returncode}")
        costs.append((usage.ru_utime + usage.ru_stime) * 1000)
    return statistics.median(costs)


def run(bin_dir):
    """Returns the CNI figures, or {} after printing why they were skipped."""
    reason = skip_reason(bin_dir)
    if reason:
        print(f"cni: skipped: {reason}", flush=True)
        return {}
    bench = Bench(load_helpers(bin_dir))
    try:
        bench.up()
        figures = bench.add_del_pairs()
        cni_dir = os.environ.get("CNI_PLUGIN_DIR", "/usr/lib/cni")
        figures["cni_exec_cpu_ms"] = exec_cpu_ms(os.path.join(bin_dir, "netledger-cni"))
        figures["cni_hostlocal_exec_cpu_ms"] = exec_cpu_ms(os.path.join(cni_dir, "host-local"))
        figures.update(bench.pods_500())
    finally:
        bench.down()
    if shutil.which("ip") and os.path.exists(f"/var/run/netns/{bench.h.NODE_NS}"):
        raise RuntimeError(f"node namespace {bench.h.NODE_NS} still exists after clean-up")
    return figures


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    got = run(os.environ.get("NETLEDGER_BIN", os.path.join(root, "build", "bin")))
    for k, v in got.items():
        print(f"{k}: {v:.4g}")
    sys.exit(0)
