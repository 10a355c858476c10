#!/usr/bin/env python3
"""netledger-agent --enforce on real (namespaced) interfaces: only the ledger's pairs may speak;
and --port-maps: a client reaches a vm through a host port of the node.

The agent lab of agent_netns_test.py (a node namespace with bridge br0 = 192.0.2.1, netledgerd,
the agent as an unprivileged user with the unit's capabilities; vm namespaces on veth ports),
with the agent loading its nftables table into the node namespace. Stations are judged as a
peer would judge them: the host's replies to pings and its neighbour table. Nothing is created
in the root namespace; everything is deleted afterwards.

Needs root. Run by ctest: NETLEDGER_BIN_DIR names the build's bin/.
"""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_netns_test import NODE, LabTest, arping  # noqa: E402
from netns_util import run  # noqa: E402

MAC1, MAC2, THIEF = "02:00:00:00:e0:01", "02:00:00:00:e0:02", "02:00:00:00:e0:03"


def pings(ns, src, target="192.0.2.1"):
    """True when `target` answers one ping sent from address `src` of the vm."""
    return run("ping", "-c", "1", "-W", "0.3", "-I", src, target, ns=ns, check=False).returncode == 0


def host_mac_for(ip):
    out = run("ip", "neigh", "show", ip, "dev", "br0").stdout  # the test lives in the node ns
    parts = out.split()
    return parts[parts.index("lladdr") + 1] if "lladdr" in parts else None


class EnforceNetnsTest(LabTest):
    @classmethod
    def prepare(cls, lab):
        api = lab.boot()
        cls.vm1, cls.p1 = lab.add_vm("e1", MAC1, v4="192.0.2.11")
        cls.vm2, cls.p2 = lab.add_vm("e2", MAC2, v4="192.0.2.12")
        cls.thief, cls.p3 = lab.add_vm("e3", THIEF, v4="192.0.2.13")
        cls.b1 = api.ok("POST", "/v1/bindings", {"instance": "vm1", "pool": "vms",
                                                 "address": "192.0.2.11", "mac": MAC1,
                                                 "host": NODE, "labels": {"port": cls.p1}})
        # No port label: the agent learns vm2's port from its first frame.
        cls.b2 = api.ok("POST", "/v1/bindings", {"instance": "vm2", "pool": "vms",
                                                 "address": "192.0.2.12", "mac": MAC2,
                                                 "host": NODE})
        lab.start_agent(extra=["--enforce", "enforce"])
        lab.wait_ports([cls.p1, cls.p2, cls.p3])

    def dropped(self, cls):
        return self.lab.agent_metric("netledger_agent_enforce_dropped_total", f'class="{cls}"')

    def until(self, pred, what, limit=1.0):
        """Polls `pred`; returns the seconds it took, failing past `limit` (+ the poll's own)."""
        t0 = time.monotonic()
        while not pred():
            self.assertLess(time.monotonic() - t0, limit + 1.0, what + "\n" + self.lab.logs())
        return time.monotonic() - t0

    def test_a_owners_speak_and_a_thief_is_silenced(self):
        arping(self.vm2, "192.0.2.1")  # vm2's first frame: its port is learned
        self.until(lambda: pings(self.vm1, "192.0.2.11"), "vm1 cannot reach the host", 5)
        self.until(lambda: pings(self.vm2, "192.0.2.12"), "vm2 cannot reach the host", 5)
        self.assertEqual(host_mac_for("192.0.2.11"), MAC1)
        # The thief has no binding: it claims vm1's address (gratuitous ARP) and pings as vm1.
        run("ip", "addr", "add", "192.0.2.11/32", "dev", "eth0", ns=self.thief)
        arping(self.thief, "192.0.2.11", count=2, extra=("-U", "-s", "192.0.2.11"))
        self.assertFalse(pings(self.thief, "192.0.2.11"))
        self.assertFalse(pings(self.thief, "192.0.2.13"))
        self.assertEqual(host_mac_for("192.0.2.11"), MAC1, "the host's cache was poisoned")
        self.assertTrue(pings(self.vm1, "192.0.2.11"))
        self.until(lambda: self.dropped("mac_spoof") > 0, "no mac_spoof counted", 2)
        run("ip", "addr", "del", "192.0.2.11/32", "dev", "eth0", ns=self.thief)

    def test_b_a_bound_station_cannot_use_another_address(self):
        run("ip", "addr", "add", "192.0.2.11/32", "dev", "eth0", ns=self.vm2)
        try:
            arping(self.vm2, "192.0.2.11", count=1, extra=("-U", "-s", "192.0.2.11"))
            self.assertFalse(pings(self.vm2, "192.0.2.11"))
            self.assertEqual(host_mac_for("192.0.2.11"), MAC1)
            self.until(lambda: self.dropped("arp_spoof") > 0, "no arp_spoof counted", 2)
            self.until(lambda: self.dropped("ipv4_spoof") > 0, "no ipv4_spoof counted", 2)
        finally:
            run("ip", "addr", "del", "192.0.2.11/32", "dev", "eth0", ns=self.vm2)

    def test_ba_a_spoof_the_snooper_cannot_see_opens_a_conflict(self):
        # One UDP packet through vm2's port from a MAC nobody has used and vm1's address, no ARP
        # at all: only the guard sees it. Dropped, logged (NFLOG), reported: the engine opens
        # the conflict with that evidence.
        stranger = "02:00:00:00:e0:77"
        self.assertFalse([c for c in self.api.conflicts() if stranger in json.dumps(c)])
        send = """
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!10H", b)); s = (s & 0xffff) + (s >> 16); return (~s) & 0xffff
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0,
                 socket.inet_aton("192.0.2.11"), socket.inet_aton("192.0.2.1"))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
eth = bytes.fromhex("020000000101") + bytes.fromhex(sys.argv[1]) + bytes([8, 0])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("eth0", 0))
s.send(eth + ip + struct.pack("!HHHH", 4000, 9, 8, 0))
"""
        before = self.dropped("mac_spoof")
        run("python3", "-c", send, stranger.replace(":", ""), ns=self.vm2)
        c, waited = self.api.wait_conflict(
            None, lambda c: c.get("ip") == "192.0.2.11" and stranger in json.dumps(c), timeout=3)
        print(f"\n  a spoof's conflict ({c['kind']}) opened {waited:.3f} s after the packet",
              file=sys.stderr)
        self.assertIn(self.p2, json.dumps(c))  # the port it came in on
        self.until(lambda: self.dropped("mac_spoof") > before, "the spoof was not counted", 2)

    def test_bb_a_pools_own_mode_wins_and_follows_within_a_second(self):
        # vm2 uses vm1's address: dropped under the agent's enforce; the pool says monitor. The
        # host forgets the address's MAC before each try, so whoever answers its ARP is seen.
        def passes():
            run("ip", "neigh", "flush", "to", "192.0.2.11", "dev", "br0", check=False)
            return pings(self.vm2, "192.0.2.11")
        run("ip", "addr", "add", "192.0.2.11/32", "dev", "eth0", ns=self.vm2)
        try:
            self.assertFalse(passes())
            self.api.ok("PATCH", "/v1/pools/vms", {"enforcement": "monitor"})
            took = self.until(passes, "the pool's monitor mode was not applied")
            print(f"\n  a pool's mode in force {took:.3f} s after the PATCH", file=sys.stderr)
            counted = self.dropped("ipv4_spoof")
            passes()
            self.until(lambda: self.dropped("ipv4_spoof") > counted, "monitor counted nothing", 2)
            self.api.ok("PATCH", "/v1/pools/vms", {"enforcement": None})  # the agent's again
            self.until(lambda: not passes(), "still let through")
        finally:
            self.api.ok("PATCH", "/v1/pools/vms", {"enforcement": None})
            run("ip", "addr", "del", "192.0.2.11/32", "dev", "eth0", ns=self.vm2)
            run("ip", "neigh", "flush", "to", "192.0.2.11", "dev", "br0", check=False)

    def test_c_a_vip_move_follows_within_a_second(self):
        # Both stations hold the VIP on their interfaces (the old holder has not noticed yet);
        # the host forgets its MAC before each try, so whoever answers its ARP gets the reply.
        def holds(ns):
            run("ip", "neigh", "flush", "to", "192.0.2.12", "dev", "br0", check=False)
            return pings(ns, "192.0.2.12")
        run("ip", "addr", "add", "192.0.2.12/32", "dev", "eth0", ns=self.vm1)
        try:
            self.assertFalse(holds(self.vm1))
            self.api.ok("POST", "/v1/addresses/192.0.2.12/move", {"to": self.b1["id"]})
            took = self.until(lambda: holds(self.vm1), "vm1 never got the VIP")
            self.until(lambda: not holds(self.vm2), "vm2 kept the VIP")
            print(f"\n  VIP move in force on the new port {took:.3f} s after the API call",
                  file=sys.stderr)
            self.api.ok("POST", "/v1/addresses/192.0.2.12/move", {"to": self.b2["id"]})
            self.until(lambda: holds(self.vm2), "the VIP did not come back")
        finally:
            run("ip", "addr", "del", "192.0.2.12/32", "dev", "eth0", ns=self.vm1)

    def test_d_migration_away_and_back(self):
        self.api.ok("POST", f"/v1/bindings/{self.b1['id']}/migrate", {"host": "node-elsewhere"})
        self.until(lambda: not pings(self.vm1, "192.0.2.11"), "vm1 still speaks after leaving")
        self.api.ok("POST", f"/v1/bindings/{self.b1['id']}/migrate", {"host": NODE})
        took = self.until(lambda: pings(self.vm1, "192.0.2.11"), "vm1 silent after coming back")
        print(f"\n  migration back in force {took:.3f} s after the API call", file=sys.stderr)

    def test_e_release_silences_the_station(self):
        b = self.api.ok("POST", "/v1/bindings", {"instance": "vm3", "pool": "vms",
                                                 "address": "192.0.2.13", "mac": THIEF,
                                                 "host": NODE, "labels": {"port": self.p3}})
        self.until(lambda: pings(self.thief, "192.0.2.13"), "vm3 silent once bound")
        self.api.ok("DELETE", f"/v1/bindings/{b['id']}")
        self.until(lambda: not pings(self.thief, "192.0.2.13"), "vm3 speaks after release")

    def test_f_a_new_port_is_guarded_within_seconds(self):
        vm4, _ = self.lab.add_vm("e4", "02:00:00:00:e0:04", v4="192.0.2.14")
        # Unguarded until the agent sees the port (its port list is re-read every 2 s), then
        # nothing without a binding passes.
        took = self.until(lambda: not pings(vm4, "192.0.2.14"), "the new port stays open", 3)
        print(f"\n  a new port guarded {took:.3f} s after it appeared", file=sys.stderr)

    def test_z_monitor_counts_drops_nothing_and_pins_protect_the_host(self):
        agent = self.lab.procs["agent"]
        agent.terminate()
        agent.wait(10)
        self.lab.start_agent(extra=["--enforce", "monitor", "--pin-neighbours",
                                    "--enforce-on-stop", "remove"])
        self.until(lambda: self.lab.agent_metric("netledger_agent_enforce_applies_total",
                                                 'result="ok"') > 0, "no table loaded", 5)
        self.until(lambda: f"192.0.2.11 lladdr {MAC1} PERMANENT" in permanent(),
                   "vm1's pair not pinned: " + permanent(), 2)
        # The third station's binding was released (test e): enforce silenced it.
        self.until(lambda: pings(self.thief, "192.0.2.13"), "monitor mode dropped a frame", 3)
        self.until(lambda: self.dropped("mac_spoof") > 0, "monitor mode counted nothing", 3)
        # Monitor lets the thief's claim through; the pinned entry does not move.
        run("ip", "addr", "add", "192.0.2.11/32", "dev", "eth0", ns=self.thief)
        arping(self.thief, "192.0.2.11", count=2, extra=("-U", "-s", "192.0.2.11"))
        self.assertEqual(host_mac_for("192.0.2.11"), MAC1)
        self.assertIn("192.0.2.11", run("ip", "neigh", "show", "nud", "permanent").stdout)
        # Stopping with enforce_on_stop=remove leaves neither the table nor the pins.
        agent = self.lab.procs["agent"]
        agent.terminate()
        agent.wait(10)
        self.assertNotIn("netledger", run("nft", "list", "tables").stdout)
        self.assertNotIn("192.0.2.11", permanent())


def permanent():
    return run("ip", "neigh", "show", "dev", "br0", "nud", "permanent").stdout


class RoutedNetnsTest(LabTest):
    """A vm on a plain veth of the node (routed, no bridge: the Calico/libvirt-routed shape). The
    agent guards it at the veth's ingress once the vm's binding names the veth as its port; the
    uplink-like interface listed beside it, named by no binding, stays open."""

    @classmethod
    def prepare(cls, lab):
        from agent_netns_test import NODE_NS, TAG
        api = lab.boot()
        api.ok("POST", "/v1/pools", {"name": "routed", "network": "lab2",
                                     "cidr": "198.51.100.0/24"})
        cls.vm = f"{TAG}rv"
        cls.veth = f"{TAG}r1"
        run("ip", "netns", "add", cls.vm)
        lab.vms.append(cls.vm)
        run("ip", "link", "add", cls.veth, "netns", NODE_NS, "type", "veth", "peer", "name",
            "eth0", "netns", cls.vm)
        run("ip", "addr", "add", "198.51.100.1/24", "dev", cls.veth)
        run("ip", "link", "set", cls.veth, "up")
        run("ip", "link", "set", "lo", "up", ns=cls.vm)
        run("ip", "link", "set", "eth0", "address", MAC1, "up", ns=cls.vm)
        run("ip", "addr", "add", "198.51.100.21/24", "dev", "eth0", ns=cls.vm)
        cls.binding = api.ok("POST", "/v1/bindings", {
            "instance": "routed-vm", "pool": "routed", "address": "198.51.100.21", "mac": MAC1,
            "host": NODE, "labels": {"port": cls.veth}})
        lab.start_agent(extra=["--enforce", "enforce", "--interface", cls.veth])

    def until(self, pred, what, limit):
        t0 = time.monotonic()
        while not pred():
            self.assertLess(time.monotonic() - t0, limit, what + "\n" + self.lab.logs())
            time.sleep(0.05)
        return time.monotonic() - t0

    def reaches(self, src):
        run("ip", "neigh", "flush", "dev", self.veth, check=False)
        return pings(self.vm, src, "198.51.100.1")

    def test_a_the_vm_speaks_only_for_its_binding(self):
        self.until(lambda: "table netdev netledger" in run("nft", "list", "tables").stdout,
                   "no host-interface table", 5)
        self.until(lambda: self.reaches("198.51.100.21"), "the vm cannot reach the node", 3)
        run("ip", "addr", "add", "198.51.100.99/32", "dev", "eth0", ns=self.vm)
        try:
            self.assertFalse(self.reaches("198.51.100.99"), "a spoofed source reached the node")
            def counted():
                m = self.lab.agent_metric
                return (m("netledger_agent_enforce_dropped_total", 'class="arp_spoof"') +
                        m("netledger_agent_enforce_dropped_total", 'class="ipv4_spoof"')) > 0
            self.until(counted, "the drops were not counted", 3)
        finally:
            run("ip", "addr", "del", "198.51.100.99/32", "dev", "eth0", ns=self.vm)

    def test_b_a_released_bindings_interface_is_no_longer_guarded(self):
        self.api.ok("DELETE", f"/v1/bindings/{self.binding['id']}")
        # Named by no binding any more: no longer guarded (as an uplink would be).
        self.until(lambda: "table netdev netledger" not in run("nft", "list", "tables").stdout,
                   "the host-interface table stayed", 3)


# A TCP server that answers each connection with "hello from <address>" (inside a vm).
SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(b"hello from " + sys.argv[1].encode()); c.close()
"""

# One TCP connection; prints what the server sent, exits 1 when there is no answer.
CLIENT = """
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.5)
    c.settimeout(0.5); print(c.recv(100).decode())
except OSError as e:
    print(e); sys.exit(1)
"""


class PortMapNetnsTest(LabTest):
    """A client namespace routed to the node (203.0.113.0/24, no bridge) reaches a vm's TCP server
    through a host port of the node, as the agent programs it from /v1/portmaps, and stops
    reaching it once the mapping is deleted. The anti-spoofing table is on as well: the vm's
    replies must still pass it."""

    @classmethod
    def prepare(cls, lab):
        import subprocess
        from agent_netns_test import NODE_NS, TAG
        api = lab.boot()
        run("sysctl", "-qw", "net.ipv4.ip_forward=1")  # the node namespace's own
        cls.vm, cls.port = lab.add_vm("pm1", MAC1, v4="192.0.2.21")
        run("ip", "route", "add", "default", "via", "192.0.2.1", ns=cls.vm)
        cls.client = f"{TAG}pmc"
        run("ip", "netns", "add", cls.client)
        lab.vms.append(cls.client)  # deleted with the lab
        run("ip", "link", "add", f"{TAG}up", "netns", NODE_NS, "type", "veth", "peer", "name",
            "eth0", "netns", cls.client)
        run("ip", "addr", "add", "203.0.113.1/24", "dev", f"{TAG}up")
        run("ip", "link", "set", f"{TAG}up", "up")
        run("ip", "link", "set", "lo", "up", ns=cls.client)
        run("ip", "addr", "add", "203.0.113.2/24", "dev", "eth0", ns=cls.client)
        run("ip", "link", "set", "eth0", "up", ns=cls.client)
        lab.procs["vm-server"] = subprocess.Popen(
            ["ip", "netns", "exec", cls.vm, "python3", "-c", SERVER, "192.0.2.21"])
        cls.binding = api.ok("POST", "/v1/bindings", {
            "instance": "web-vm", "pool": "vms", "address": "192.0.2.21", "mac": MAC1,
            "host": NODE, "labels": {"port": cls.port}})
        lab.start_agent(extra=["--enforce", "enforce", "--port-maps"])
        lab.wait_ports([cls.port])

    def fetch(self, port, host="203.0.113.1"):
        r = run("python3", "-c", CLIENT, host, port, ns=self.client, check=False)
        return r.stdout.strip() if r.returncode == 0 else None

    def until(self, pred, what, limit):
        t0 = time.monotonic()
        while not pred():
            self.assertLess(time.monotonic() - t0, limit, what + "\n" + self.lab.logs())
            time.sleep(0.02)
        return time.monotonic() - t0

    def test_a_a_client_reaches_the_vm_through_a_host_port_until_it_is_deleted(self):
        self.assertIsNone(self.fetch(8080), "reachable before any mapping")
        t0 = time.monotonic()
        m = self.api.ok("POST", "/v1/portmaps", {"binding_id": int(self.binding["id"]),
                                                 "host_port": 8080, "port": 80})
        self.until(lambda: self.fetch(8080) == "hello from 192.0.2.21",
                   "the host port does not reach the vm", 3)
        print(f"\nport map in force {time.monotonic() - t0:.3f} s after POST", file=sys.stderr)
        self.assertIsNone(self.fetch(8081), "a port nobody mapped answers")
        # An automatic port from the node's range reaches it too.
        auto = self.api.ok("POST", "/v1/portmaps", {"binding_id": int(self.binding["id"]),
                                                    "port": 80})
        self.until(lambda: self.fetch(auto["host_port"]) == "hello from 192.0.2.21",
                   "the automatic host port does not reach the vm", 3)
        self.assertGreater(self.lab.agent_metric("netledger_agent_port_forwards"), 1)
        t0 = time.monotonic()
        self.api.ok("DELETE", f"/v1/portmaps/{m['id']}")
        self.until(lambda: self.fetch(8080) is None, "still forwarded after the delete", 2)
        print(f"port map gone {time.monotonic() - t0:.3f} s after DELETE", file=sys.stderr)
        self.assertEqual(self.fetch(auto["host_port"]), "hello from 192.0.2.21")

    def test_b_releasing_the_binding_ends_its_forwards(self):
        auto = self.api.ok("POST", "/v1/portmaps", {"binding_id": int(self.binding["id"]),
                                                    "port": 80, "host_port": 9090})
        self.until(lambda: self.fetch(9090) is not None, "9090 not forwarded", 3)
        self.api.ok("DELETE", f"/v1/bindings/{self.binding['id']}")
        self.until(lambda: self.fetch(auto["host_port"]) is None,
                   "a released binding is still reachable", 4)
        # Forwarding stops with the release; the daemon's sweeper then deletes the mappings.
        self.until(lambda: self.api.ok("GET", "/v1/portmaps")["items"] == [],
                   "the released binding's mappings were not deleted", 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
