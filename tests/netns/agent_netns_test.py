#!/usr/bin/env python3
"""netledger-agent on real (namespaced) interfaces: snooping, probing, announcing, scanning.

Topology, all created here and deleted afterwards: a node
namespace with a bridge br0 (192.0.2.1/24, 2001:db8::1/64), netledgerd and netledger-agent;
"vm" namespaces on veth ports of that bridge, configured with the kernel's own tools (ip,
arping, ping). Only documentation prefixes, no route out of any namespace, nothing in the root
namespace: veth pairs are created directly inside their namespaces.

The test process itself enters the node namespace (setns) so it reaches netledgerd on the node's
loopback, as an operator on that node would. Every scenario asserts through the REST API.

Needs root (namespaces, raw sockets). Run by ctest: NETLEDGER_BIN_DIR names the build's bin/.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns_util import run, setns  # noqa: E402

BIN = os.environ.get("NETLEDGER_BIN_DIR", os.path.join(os.path.dirname(__file__), "../../build/bin"))
TAG = "nl%05d" % (os.getpid() % 100000)  # keeps every name unique and <= 15 chars
NODE_NS = TAG + "n"
NODE = "node-1"
TOKEN = "netns-admin-token-" + TAG
UNIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../docs/deploy/netledger-agent.service")


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None, token=TOKEN, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                text = r.read().decode()
                return r.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            return e.code, (json.loads(text) if text.startswith("{") else text)

    def ok(self, method, path, body=None, expect=(200, 201, 202, 204)):
        status, out = self.call(method, path, body)
        if status not in expect:
            raise AssertionError(f"{method} {path} -> {status}: {out}")
        return out

    def conflicts(self, kind=None):
        items = self.ok("GET", "/v1/conflicts?limit=1000").get("items", [])
        return [c for c in items if kind is None or c["kind"] == kind]

    def wait_conflict(self, kind, pred, timeout=5.0):
        """Polls every 25 ms; returns (conflict, seconds waited) or fails."""
        t0 = time.monotonic()
        while True:
            for c in self.conflicts(kind):
                if pred(c):
                    return c, time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"no {kind} conflict within {timeout} s; have "
                                     f"{json.dumps(self.conflicts(), indent=1)[:3000]}")
            time.sleep(0.025)


class Lab:
    """The node namespace, its bridge, netledgerd and the agent; vms come and go."""

    def __init__(self):
        self.vms = []
        self.procs = {}
        self.tmp = tempfile.mkdtemp(prefix="netledger-netns-")
        os.chmod(self.tmp, 0o755)
        self.root_ns = os.open("/proc/self/ns/net", os.O_RDONLY)

    # -- namespaces -------------------------------------------------------------------------
    def up(self):
        run("ip", "netns", "add", NODE_NS)
        n = NODE_NS
        run("ip", "link", "set", "lo", "up", ns=n)
        run("ip", "link", "add", "br0", "type", "bridge", "mcast_snooping", "0", ns=n)
        run("ip", "link", "set", "br0", "address", "02:00:00:00:01:01", "up", ns=n)
        run("ip", "addr", "add", "192.0.2.1/24", "dev", "br0", ns=n)
        run("ip", "addr", "add", "2001:db8::1/64", "dev", "br0", "nodad", ns=n)
        setns(f"/var/run/netns/{n}")  # from here on this process lives in the node namespace

    def add_vm(self, name, mac, v4=None, v6=None):
        ns = f"{TAG}{name}"
        port = f"{TAG}{name}"[-15:]
        run("ip", "netns", "add", ns)
        # Created inside the two namespaces directly: never visible in the root namespace.
        run("ip", "link", "add", port, "netns", NODE_NS, "type", "veth", "peer", "name", "eth0",
            "netns", ns)
        run("ip", "link", "set", port, "master", "br0", "up", ns=NODE_NS)
        run("ip", "link", "set", "lo", "up", ns=ns)
        run("ip", "link", "set", "eth0", "address", mac, "up", ns=ns)
        run("sysctl", "-qw", "net.ipv6.conf.eth0.dad_transmits=1", ns=ns)
        if v4:
            run("ip", "addr", "add", f"{v4}/24", "dev", "eth0", ns=ns)
        if v6:
            run("ip", "addr", "add", f"{v6}/64", "dev", "eth0", "nodad", ns=ns)
        self.vms.append(ns)
        return ns, port

    def remove_vm(self, ns):
        run("ip", "netns", "del", ns, check=False)
        if ns in self.vms:
            self.vms.remove(ns)

    def down(self):
        for name, p in list(self.procs.items()):
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        setns("/proc/self/fd/%d" % self.root_ns)
        for ns in list(self.vms):
            self.remove_vm(ns)
        run("ip", "netns", "del", NODE_NS, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def boot(self):
        """The node namespace, netledgerd in it and the IPv4 pool `vms` on br0's subnet."""
        self.up()
        api = self.start_server()
        api.ok("POST", "/v1/pools", {"name": "vms", "network": "lab", "cidr": "192.0.2.0/24",
                                     "gateway": "192.0.2.1", "ranges": ["192.0.2.10-192.0.2.40"]})
        return api

    # -- processes --------------------------------------------------------------------------
    def wait_file(self, path, proc, timeout=30):
        t0 = time.monotonic()
        while not os.path.exists(path):
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n" +
                                   self.logs())
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"{proc.args[0]} did not start within {timeout} s")
            time.sleep(0.05)
        return int(open(path).read().strip())

    def logs(self):
        out = ""
        for name in ("netledgerd.log", "agent.log"):
            path = os.path.join(self.tmp, name)
            if os.path.exists(path):
                out += f"--- {name} (last 40 lines)\n" + "".join(open(path).readlines()[-40:])
        return out

    def start_server(self, port=0):
        cfg = os.path.join(self.tmp, "netledgerd.yaml")
        with open(cfg, "w") as f:
            f.write("sweep_interval_ms: 200\n")
        env = dict(os.environ, NETLEDGER_BOOTSTRAP_TOKEN=TOKEN)
        port_file = os.path.join(self.tmp, "server.port")
        if os.path.exists(port_file):
            os.remove(port_file)
        log = open(os.path.join(self.tmp, "netledgerd.log"), "a")
        p = subprocess.Popen([os.path.join(BIN, "netledgerd"), "--listen", f"127.0.0.1:{port}",
                              "--data-dir", os.path.join(self.tmp, "data"), "--config", cfg,
                              "--port-file", port_file], stdout=log, stderr=subprocess.STDOUT,
                             env=env)
        self.procs["netledgerd"] = p
        self.api = Api(f"http://127.0.0.1:{self.wait_file(port_file, p)}")
        return self.api

    def start_agent(self, heartbeat_ms=500, extra=()):
        """Runs the agent the way its systemd unit does: an unprivileged user holding only
        CAP_NET_RAW and CAP_NET_ADMIN (setpriv), so the scenarios prove those suffice."""
        binary = os.path.join(self.tmp, "netledger-agent")
        shutil.copy(os.path.join(BIN, "netledger-agent"), binary)
        os.chmod(binary, 0o755)
        run_dir = os.path.join(self.tmp, "agent-run")  # writable by the agent's user
        os.makedirs(run_dir, exist_ok=True)
        os.chmod(run_dir, 0o777)
        port_file = os.path.join(run_dir, "agent.port")
        if os.path.exists(port_file):
            os.remove(port_file)
        caps = "-all," + ",".join("+" + c for c in unit_capabilities())
        # `ip netns exec` also mounts the node namespace's /sys, where the agent reads its
        # bridge's ports, as it would on a real node.
        cmd = ["ip", "netns", "exec", NODE_NS, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               f"--inh-caps={caps}", f"--ambient-caps={caps}", f"--bounding-set={caps}",
               binary, "--server", self.api.base, "--token", TOKEN, "--node", NODE,
               "--interface", "br0", "--network", "lab", "--probe-mode", "fast",
               "--heartbeat-interval-ms", str(heartbeat_ms), "--announce-count", "2",
               "--announce-interval-ms", "100", "--listen", "127.0.0.1:0",
               "--port-file", port_file, "--log-level", "debug", *extra]
        log = open(os.path.join(self.tmp, "agent.log"), "a")
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp)
        self.procs["agent"] = p
        self.agent_port = self.wait_file(port_file, p)
        return p

    def agent_get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.agent_port}{path}",
                                        timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def agent_metric(self, name, labels=""):
        _, text = self.agent_get("/metrics")
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{" if labels or "{" in line.split(" ")[0] else name + " "):
                if labels in line:
                    total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_ports(self, ports, timeout=10):
        """Until the agent snoops every given bridge port (it re-reads them every 2 s)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            status, body = self.agent_get("/healthz")
            if status == 200:
                have = set(json.loads(body)["interfaces"][0]["ports"])
                if set(ports) <= have:
                    return
            time.sleep(0.1)
        raise AssertionError(f"agent does not snoop {ports}: {self.agent_get('/healthz')}")


def unit_capabilities():
    """The capabilities the systemd unit grants (AmbientCapabilities), as setpriv names them."""
    for line in open(UNIT):
        if line.startswith("AmbientCapabilities="):
            return [c.lower().removeprefix("cap_") for c in line.split("=", 1)[1].split()]
    raise AssertionError("the unit grants no capabilities")


def arping(ns, target, count=1, extra=()):
    return run("arping", "-c", count, "-w", 2, *extra, "-I", "eth0", target, ns=ns, check=False)


class LabTest(unittest.TestCase):
    """Test classes on one Lab: `prepare(lab)` builds it, it is torn down after the last test."""
    lab = None

    @classmethod
    def prepare(cls, lab):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root: network namespaces and raw sockets")
        cls.lab = Lab()
        try:
            cls.prepare(cls.lab)
        except BaseException:
            cls.lab.down()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.lab:
            cls.lab.down()

    def setUp(self):
        self.api = self.lab.api
        self.assertIsNone(self.lab.procs["agent"].poll(), "the agent died:\n" + self.lab.logs())


class AgentNetnsTest(LabTest):
    @classmethod
    def prepare(cls, lab):
        api = lab.boot()
        api.ok("POST", "/v1/pools", {"name": "vms6", "network": "lab", "cidr": "2001:db8::/64",
                                     "gateway": "2001:db8::1",
                                     "ranges": ["2001:db8::10-2001:db8::40"]})
        lab.start_agent()

    # a ----------------------------------------------------------------------------------------
    def test_a_duplicate_ip_within_one_second(self):
        vm1, p1 = self.lab.add_vm("a1", "02:00:00:00:0a:01", v4="192.0.2.150")
        vm2, p2 = self.lab.add_vm("a2", "02:00:00:00:0a:02", v4="192.0.2.150")
        self.lab.wait_ports([p1, p2])
        arping(vm1, "192.0.2.1")
        time.sleep(0.3)
        t0 = time.monotonic()  # the second station speaks: the clock starts
        arping(vm2, "192.0.2.1")
        c, _ = self.api.wait_conflict("duplicate_ip", lambda c: c.get("ip") == "192.0.2.150")
        elapsed = time.monotonic() - t0
        self.assertTrue({"02:00:00:00:0a:01", "02:00:00:00:0a:02"} <= set(c.get("macs", [])), c)
        print(f"\n  duplicate_ip visible in the API {elapsed:.3f} s after the second station's "
              f"ARP", file=sys.stderr)
        self.assertLess(elapsed, 1.0)
        self.lab.remove_vm(vm1)
        self.lab.remove_vm(vm2)

    # b ----------------------------------------------------------------------------------------
    def test_b_probe_skips_an_address_in_use(self):
        # A station the ledger knows nothing about sits on the first address of the range.
        squatter, p1 = self.lab.add_vm("b1", "02:00:00:00:0b:01", v4="192.0.2.10")
        peer, p2 = self.lab.add_vm("b2", "02:00:00:00:0b:02", v4="192.0.2.200")
        self.lab.wait_ports([p1, p2])
        # Independent witness: tshark in the peer decodes the agent's probes.
        capture = subprocess.Popen(
            ["ip", "netns", "exec", peer, "tshark", "-l", "-n", "-i", "eth0", "-f", "arp",
             "-a", "duration:8", "-T", "fields", "-e", "eth.src", "-e", "arp.opcode",
             "-e", "arp.src.proto_ipv4", "-e", "arp.dst.proto_ipv4", "-e", "arp.dst.hw_mac"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.5)  # tshark's start-up
        status, b = self.api.call("POST", "/v1/bindings", {
            "instance": "vm-b", "pool": "vms", "host": NODE, "probe": True,
            "mac": "02:00:00:00:0b:99", "probe_timeout_s": 10})
        self.assertEqual(status, 201, b)
        self.assertEqual(b["state"], "active")
        self.assertNotIn("192.0.2.10", b["addresses"])
        c, _ = self.api.wait_conflict("unknown_station", lambda c: c.get("ip") == "192.0.2.10")
        self.assertIn("02:00:00:00:0b:01", json.dumps(c))
        status, addr = self.api.call("GET", "/v1/addresses/192.0.2.10")
        self.assertEqual(status, 404, addr)  # quarantined, not handed out
        # The kernel's own tools agree: arping -D from the peer finds .10 taken, the new one free.
        self.assertEqual(arping(peer, "192.0.2.10", 2, ["-D"]).returncode, 1)
        self.assertEqual(arping(peer, b["addresses"][0], 2, ["-D"]).returncode, 0)
        out, _ = capture.communicate(timeout=20)
        probes = [l.split("\t") for l in out.splitlines() if l.count("\t") == 4]
        agent_probes = [p for p in probes if p[0] == "02:00:00:00:01:01" and p[2] == "0.0.0.0"]
        targets = [p[3] for p in agent_probes]
        self.assertIn("192.0.2.10", targets, out)
        self.assertGreaterEqual(targets.count(b["addresses"][0]), 3, out)  # PROBE_NUM
        for p in agent_probes:
            self.assertEqual(p[1], "1")  # requests
            self.assertEqual(p[4], "00:00:00:00:00:00")  # target hardware address zero
        self.lab.remove_vm(squatter)
        self.lab.remove_vm(peer)

    # c ----------------------------------------------------------------------------------------
    def test_c_mac_change_is_a_binding_mismatch(self):
        self.api.ok("POST", "/v1/bindings", {"instance": "vm-c", "pool": "vms",
                                             "address": "192.0.2.30", "host": NODE,
                                             "mac": "02:00:00:00:0c:01"})
        vm, port = self.lab.add_vm("c1", "02:00:00:00:0c:01", v4="192.0.2.30")
        self.lab.wait_ports([port])
        arping(vm, "192.0.2.1")
        time.sleep(0.5)
        self.assertFalse([c for c in self.api.conflicts("binding_mismatch")
                          if c.get("ip") == "192.0.2.30"])
        run("ip", "link", "set", "eth0", "address", "02:00:00:00:0c:02", ns=vm)
        arping(vm, "192.0.2.1")
        c, waited = self.api.wait_conflict("binding_mismatch", lambda c: c.get("ip") == "192.0.2.30")
        self.assertIn("02:00:00:00:0c:02", json.dumps(c))
        self.lab.remove_vm(vm)

    # d ----------------------------------------------------------------------------------------
    def test_d_migration_and_failover_update_peer_neighbour_tables(self):
        peer, port = self.lab.add_vm("d1", "02:00:00:00:0d:01", v4="192.0.2.201")
        self.lab.wait_ports([port])
        b = self.api.ok("POST", "/v1/bindings", {"instance": "vm-d", "pool": "vms",
                                                 "address": "192.0.2.31", "host": "node-0",
                                                 "mac": "02:00:00:00:0d:31"})
        # The peer's cache points at an old MAC for that address (stale, as after a reuse).
        run("ip", "neigh", "replace", "192.0.2.31", "lladdr", "02:00:00:00:0d:ff", "dev", "eth0",
            "nud", "stale", ns=peer)
        self.api.ok("POST", f"/v1/bindings/{b['id']}/migrate", {"host": NODE})

        def neigh(ip):
            return run("ip", "neigh", "show", ip, "dev", "eth0", ns=peer).stdout

        t0 = time.monotonic()
        while "02:00:00:00:0d:31" not in neigh("192.0.2.31"):
            self.assertLess(time.monotonic() - t0, 5, neigh("192.0.2.31"))
            time.sleep(0.05)
        # VIP failover: 192.0.2.32 moves from vip-a to vip-b, both on this node.
        a = self.api.ok("POST", "/v1/bindings", {"instance": "vip-a", "pool": "vms",
                                                 "address": "192.0.2.32", "host": NODE,
                                                 "mac": "02:00:00:00:0d:0a"})
        vb = self.api.ok("POST", "/v1/bindings", {"instance": "vip-b", "pool": "vms",
                                                  "host": NODE, "mac": "02:00:00:00:0d:0b"})
        run("ip", "neigh", "replace", "192.0.2.32", "lladdr", "02:00:00:00:0d:0a", "dev", "eth0",
            "nud", "stale", ns=peer)
        self.api.ok("POST", "/v1/addresses/192.0.2.32/move", {"to": vb["id"]})
        t0 = time.monotonic()
        while "02:00:00:00:0d:0b" not in neigh("192.0.2.32"):
            self.assertLess(time.monotonic() - t0, 5, neigh("192.0.2.32"))
            time.sleep(0.05)
        self.assertGreater(self.lab.agent_metric("netledger_agent_frames_sent_total"), 0)
        del a
        self.lab.remove_vm(peer)

    # e ----------------------------------------------------------------------------------------
    def test_e_mac_flapping_between_bridge_ports(self):
        mac = "02:00:00:00:0e:01"
        vm1, p1 = self.lab.add_vm("e1", mac, v4="192.0.2.160")
        vm2, p2 = self.lab.add_vm("e2", mac, v4="192.0.2.161")
        self.lab.wait_ports([p1, p2])
        for i in range(4):
            arping(vm1, "192.0.2.1")
            time.sleep(0.1)
            arping(vm2, "192.0.2.1")
            time.sleep(0.1)
        c, _ = self.api.wait_conflict("mac_flapping", lambda c: c.get("mac") == mac)
        self.assertTrue(p1 in json.dumps(c) and p2 in json.dumps(c), c)
        self.lab.remove_vm(vm1)
        self.lab.remove_vm(vm2)

    # f ----------------------------------------------------------------------------------------
    def test_f_ipv6_dad_conflict(self):
        owner, p1 = self.lab.add_vm("f1", "02:00:00:00:0f:01", v6="2001:db8::f1")
        late, p2 = self.lab.add_vm("f2", "02:00:00:00:0f:02")
        self.lab.wait_ports([p1, p2])
        # The owner speaks from its address (a claim the agent reports).
        run("ping", "-6", "-c", "1", "-W", "1", "2001:db8::1", ns=owner, check=False)
        time.sleep(0.5)
        # The late station runs DAD for the same address: the kernel's own NS from ::.
        run("ip", "addr", "add", "2001:db8::f1/64", "dev", "eth0", ns=late)
        c, _ = self.api.wait_conflict("duplicate_ip", lambda c: c.get("ip") == "2001:db8::f1")
        self.assertIn("02:00:00:00:0f:02", json.dumps(c))
        t0 = time.monotonic()
        while "dadfailed" not in run("ip", "-6", "addr", "show", "dev", "eth0", ns=late).stdout:
            self.assertLess(time.monotonic() - t0, 5, "the kernel should mark DAD failed")
            time.sleep(0.1)
        self.lab.remove_vm(owner)
        self.lab.remove_vm(late)

    # garbage ----------------------------------------------------------------------------------
    def test_g_agent_survives_garbage_frames(self):
        vm, port = self.lab.add_vm("g1", "02:00:00:00:09:01", v4="192.0.2.35")
        self.lab.wait_ports([port])
        before = self.lab.agent_metric("netledger_agent_frames_invalid_total")
        # 3,000 frames of random bytes behind valid ARP / IPv6+ICMPv6 NS headers, truncated or
        # padded at random, from a raw socket in the vm.
        script = """
import os, random, socket, struct

random.seed(7)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
src = bytes.fromhex("020000000901")
for i in range(3000):
    kind = i % 3
    if kind == 0:
        body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, random.choice([1, 2, 9])) + os.urandom(random.randrange(0, 40))
        frame = b"\\xff" * 6 + src + b"\\x08\\x06" + body
    elif kind == 1:
        payload = bytes([135, 0]) + os.urandom(random.randrange(0, 60))
        ip6 = struct.pack("!IHBB", 0x60000000, len(payload), 58, random.choice([255, 64])) + os.urandom(32)
        frame = bytes.fromhex("3333ff000001") + src + b"\\x86\\xdd" + ip6 + payload
    else:
        frame = b"\\xff" * 6 + src + b"\\x81\\x00" + os.urandom(random.randrange(2, 80))
    s.send(frame[:random.randrange(14, len(frame) + 1)] if len(frame) > 14 else frame)
"""
        run("python3", "-c", script, ns=vm)
        time.sleep(0.5)
        self.assertIsNone(self.lab.procs["agent"].poll(), "the agent died on garbage")
        status, body = self.lab.agent_get("/healthz")
        self.assertEqual(status, 200, body)
        self.assertGreater(self.lab.agent_metric("netledger_agent_frames_invalid_total"),
                           before + 500)
        # ... and still reports real stations: .35 is in the pool but nobody holds it.
        arping(vm, "192.0.2.1")
        self.api.wait_conflict("unknown_station", lambda c: c.get("ip") == "192.0.2.35")
        self.lab.remove_vm(vm)

    # h ----------------------------------------------------------------------------------------
    def test_h_scan_finds_unknown_stations_and_silent_bindings(self):
        unknown, p1 = self.lab.add_vm("h1", "02:00:00:00:08:01", v4="192.0.2.38")
        bound, p2 = self.lab.add_vm("h2", "02:00:00:00:08:02", v4="192.0.2.39")
        self.api.ok("POST", "/v1/bindings", {"instance": "vm-h2", "pool": "vms",
                                             "address": "192.0.2.39", "host": NODE,
                                             "mac": "02:00:00:00:08:02"})
        silent = self.api.ok("POST", "/v1/bindings", {"instance": "vm-h3", "pool": "vms",
                                                      "address": "192.0.2.37", "host": NODE,
                                                      "mac": "02:00:00:00:08:03"})
        self.lab.wait_ports([p1, p2])
        env = dict(os.environ, NETLEDGER_URL=self.api.base, NETLEDGER_TOKEN=TOKEN)
        p = subprocess.run([os.path.join(BIN, "netledger"), "scan", "vms", "--via", NODE,
                            "--rate", "500", "--timeout", "30", "-o", "json"],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        scan = json.loads(p.stdout)
        self.assertEqual(scan["state"], "done", scan)
        self.assertEqual(scan["probed"], 31)  # .10-.40, every address once
        unknown_ips = {u["ip"]: u["mac"] for u in scan["unknown_stations"]}
        self.assertEqual(unknown_ips.get("192.0.2.38"), "02:00:00:00:08:01", scan)
        self.assertNotIn("192.0.2.39", unknown_ips)
        silent_ips = {b["ip"] for b in scan["silent_bindings"]}
        self.assertIn("192.0.2.37", silent_ips)
        self.assertNotIn("192.0.2.39", silent_ips)
        self.api.wait_conflict("unknown_station", lambda c: c.get("ip") == "192.0.2.38")
        # The table form an operator reads names both.
        p = subprocess.run([os.path.join(BIN, "netledger"), "scan", "vms", "--via", NODE,
                            "--rate", "1000"], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("192.0.2.38", p.stdout)
        self.assertIn("192.0.2.37", p.stdout)
        del silent
        self.lab.remove_vm(unknown)
        self.lab.remove_vm(bound)

    # b, IPv6 -----------------------------------------------------------------------------------
    def test_b2_ipv6_probe_is_dad(self):
        # A squatter on the first address of the IPv6 pool (its own DAD done long ago).
        squatter, port = self.lab.add_vm("b3", "02:00:00:00:0b:03", v6="2001:db8::10")
        self.lab.wait_ports([port])
        status, b = self.api.call("POST", "/v1/bindings", {
            "instance": "vm-b2", "pools": ["vms6"], "host": NODE, "probe": True,
            "mac": "02:00:00:00:0b:98", "probe_timeout_s": 10})
        self.assertEqual(status, 201, b)
        self.assertEqual(b["state"], "active")
        v6 = [a for a in b["addresses"] if ":" in a]
        self.assertEqual(len(v6), 1, b)
        self.assertNotEqual(v6[0], "2001:db8::10")  # DAD met the squatter; another was tried
        self.api.wait_conflict("unknown_station", lambda c: c.get("ip") == "2001:db8::10")
        self.lab.remove_vm(squatter)

    def test_systemd_unit_is_valid_and_minimal(self):
        self.assertEqual(sorted(unit_capabilities()), ["net_admin", "net_raw"])
        unit_dir = os.path.join(self.lab.tmp, "unit")
        os.makedirs(unit_dir, exist_ok=True)
        text = open(UNIT).read().replace("/usr/local/bin/netledger-agent",
                                         os.path.join(self.lab.tmp, "netledger-agent"))
        path = os.path.join(unit_dir, "netledger-agent.service")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    # the server goes away and comes back ------------------------------------------------------
    def test_y_agent_rides_out_a_server_restart(self):
        vm, port = self.lab.add_vm("y1", "02:00:00:00:07:01", v4="192.0.2.36")
        self.lab.wait_ports([port])
        server = self.lab.procs["netledgerd"]
        server_port = int(self.api.base.rsplit(":", 1)[1])
        server.terminate()
        server.wait(10)
        # Seen while the server is away: queued, not lost.
        arping(vm, "192.0.2.1")
        time.sleep(1.0)
        _, health = self.lab.agent_get("/healthz")
        self.assertFalse(json.loads(health)["server"]["event_stream"], health)
        self.assertGreater(self.lab.agent_metric("netledger_agent_observation_send_failures_total"),
                           0)
        self.lab.start_server(port=server_port)
        self.api.wait_conflict("unknown_station", lambda c: c.get("ip") == "192.0.2.36",
                               timeout=15)
        # The event stream is back too: a probed allocation completes end to end.
        t0 = time.monotonic()
        while not json.loads(self.lab.agent_get("/healthz")[1])["server"]["event_stream"]:
            self.assertLess(time.monotonic() - t0, 15, "the event stream did not reconnect")
            time.sleep(0.1)
        status, b = self.api.call("POST", "/v1/bindings", {
            "instance": "vm-y", "pool": "vms", "host": NODE, "probe": True, "probe_timeout_s": 10})
        self.assertEqual(status, 201, b)
        self.assertEqual(b["state"], "active")
        self.lab.remove_vm(vm)

    # g (last: it stops the agent) ------------------------------------------------------------
    def test_z_heartbeats_stop_dynamic_bindings_expire(self):
        dyn = [self.api.ok("POST", "/v1/bindings", {"instance": f"vm-g{i}", "pool": "vms",
                                                    "host": NODE, "ttl_s": 2})
               for i in range(3)]
        pinned = self.api.ok("POST", "/v1/bindings", {"instance": "vm-gs", "pool": "vms",
                                                      "host": NODE, "static": True})
        time.sleep(3.5)  # longer than the TTL: the agent's heartbeats keep them alive
        for b in dyn:
            self.assertEqual(self.api.ok("GET", f"/v1/bindings/{b['id']}")["state"], "active")
        self.assertGreater(self.lab.agent_metric("netledger_agent_heartbeats_total", 'result="ok"'),
                           3)
        agent = self.lab.procs["agent"]
        agent.send_signal(signal.SIGSTOP)  # the node hangs: heartbeats stop
        t0 = time.monotonic()
        for b in dyn:
            # An expired binding leaves the live table (404); its history says how it ended.
            while self.api.call("GET", f"/v1/bindings/{b['id']}")[0] != 404:
                self.assertLess(time.monotonic() - t0, 6, "binding should expire after its TTL")
                time.sleep(0.1)
            # (History reads the store: the expiry event lands with its commit, a moment later.)
            while True:
                entries = self.api.ok("GET", f"/v1/history?instance={b['instance']}")["entries"]
                if entries[-1]["op"] == "binding.expire":
                    break
                self.assertLess(time.monotonic() - t0, 8, entries)
                time.sleep(0.05)
        self.assertEqual(self.api.ok("GET", f"/v1/bindings/{pinned['id']}")["state"], "active")
        agent.send_signal(signal.SIGCONT)


if __name__ == "__main__":
    if os.geteuid() != 0:
        # Reported to ctest as skipped (SKIP_RETURN_CODE 77), never as passed.
        print("skipped: needs root (network namespaces, raw sockets)", file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
