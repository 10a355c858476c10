#!/usr/bin/env python3
"""netledgerd's DHCPv4 server judged by real clients from Debian (#15): dhclient
(isc-dhcp-client), udhcpc (busybox) and dhcpcd, between namespaces created here.

Topology, all created here and deleted afterwards, documentation prefixes only, no route out:
  node namespace: netledgerd (API on its loopback) serving DHCP on bridges br0 (192.0.2.1/25,
    pool "lan"), br1 (192.0.2.129/26, pool "lan2") and br2 (192.0.2.193/27, pool "probe"); a
    veth to the relay namespace (198.51.100.1/24) where relayed traffic arrives.
  client namespaces: one veth each ("eth0"), its peer in a bridge of the node namespace.
  relay namespace: 198.51.100.2/24 and 203.0.113.1 (the giaddr of pool "relayed").
Clients that write /etc/resolv.conf write the namespace's own copy (/etc/netns/NS/).

Needs root. Run by ctest: NETLEDGER_BIN_DIR names the build's bin/.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns_util import api_call, run, setns, start_netledgerd  # noqa: E402

BIN = os.path.abspath(os.environ.get("NETLEDGER_BIN_DIR",
                                     os.path.join(os.path.dirname(__file__), "../../build/bin")))
HERE = os.path.dirname(os.path.abspath(__file__))
TAG = "nd%05d" % (os.getpid() % 100000)
NODE_NS = TAG + "n"
RELAY_NS = TAG + "r"
TOKEN = "dhcp-netns-admin-token-" + TAG
UDHCPC_SCRIPT = """#!/bin/sh
# udhcpc's hook, as busybox's sample does: configure what the server gave, log the event.
echo "$1 ${ip:-} ${lease:-}" >> "$LOG"
case "$1" in
  deconfig) ip -4 addr flush dev "$interface" ;;
  bound|renew) ip -4 addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface" ;;
esac
"""


def wait_for(what, fn, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def v4_of(ns, ifname="eth0"):
    info = json.loads(run("ip", "-j", "-4", "addr", "show", ifname, ns=ns).stdout)
    # With -4, an interface without IPv4 addresses is left out of the list altogether.
    return [a["local"] for i in info for a in i.get("addr_info", []) if "local" in a]


def mac_of(ns, ifname="eth0"):
    return json.loads(run("ip", "-j", "link", "show", ifname, ns=ns).stdout)[0]["address"]


class Lab:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="netledger-dhcp-")
        self.clients = []
        self.server = None
        self.port = 0
        self.root_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.procs = []

    def up(self):
        run("ip", "netns", "add", NODE_NS)
        run("ip", "link", "set", "lo", "up", ns=NODE_NS)
        for br, address in (("br0", "192.0.2.1/25"), ("br1", "192.0.2.129/26"),
                            ("br2", "192.0.2.193/27")):
            run("ip", "link", "add", br, "type", "bridge", ns=NODE_NS)
            run("ip", "addr", "add", address, "dev", br, ns=NODE_NS)
            run("ip", "link", "set", br, "up", ns=NODE_NS)
        run("ip", "netns", "add", RELAY_NS)
        run("ip", "link", "set", "lo", "up", ns=RELAY_NS)
        run("ip", "link", "add", "vr0", "netns", NODE_NS, "type", "veth", "peer", "rl0",
            "netns", RELAY_NS)
        run("ip", "addr", "add", "198.51.100.1/24", "dev", "vr0", ns=NODE_NS)
        run("ip", "link", "set", "vr0", "up", ns=NODE_NS)
        run("ip", "addr", "add", "198.51.100.2/24", "dev", "rl0", ns=RELAY_NS)
        run("ip", "addr", "add", "203.0.113.1/32", "dev", "lo", ns=RELAY_NS)
        run("ip", "link", "set", "rl0", "up", ns=RELAY_NS)
        run("ip", "route", "add", "203.0.113.0/24", "via", "198.51.100.2", ns=NODE_NS)
        setns(f"/var/run/netns/{NODE_NS}")
        self.start_server()

    def start_server(self):
        self.server, self.port = start_netledgerd(
            BIN, self.tmp, TOKEN, self.port,
            ["--node", "node-1", "--dhcp-interface", "br0", "--dhcp-interface", "br1",
             "--dhcp-interface", "br2", "--dhcp-relay-address", "198.51.100.1"])

    def log(self):
        with open(os.path.join(self.tmp, "netledgerd.log")) as f:
            return f.read()

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(timeout=20)
        for ns in self.clients + [RELAY_NS, NODE_NS]:
            run("ip", "netns", "del", ns, check=False)
            shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)
        setns("/proc/self/fd/%d" % self.root_ns)
        if os.environ.get("KEEP_TMP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def client(self, name, bridge="br0"):
        ns = f"{TAG}{name}"
        run("ip", "netns", "add", ns)
        self.clients.append(ns)
        os.makedirs(f"/etc/netns/{ns}", exist_ok=True)
        open(f"/etc/netns/{ns}/resolv.conf", "w").close()
        peer = f"{TAG}{name}"[-15:]
        run("ip", "link", "add", peer, "type", "veth", "peer", "eth0", "netns", ns, ns=NODE_NS)
        run("ip", "link", "set", peer, "master", bridge, "up", ns=NODE_NS)
        run("ip", "link", "set", "lo", "up", ns=ns)
        run("ip", "link", "set", "eth0", "up", ns=ns)
        return ns

    def move(self, ns, bridge):
        name = ns[len(TAG):]
        run("ip", "link", "set", f"{TAG}{name}"[-15:], "master", bridge, ns=NODE_NS)

    def api(self, method, path, body=None):
        return api_call(self.port, TOKEN, method, path, body)

    def binding_of(self, mac):
        status, out = self.api("GET", "/v1/bindings?limit=1000&mac=" + mac)
        assert status == 200, out
        live = [b for b in out["items"] if b["state"] in ("reserved", "active")]
        return live[0] if live else None

    def metric(self, name, **labels):
        status, text = self.api("GET", "/metrics")
        assert status == 200, text
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        pattern = "^" + re.escape(name + ("{" + want + "}" if want else "")) + r" (\S+)$"
        m = re.search(pattern, text, re.M)
        return float(m.group(1)) if m else 0.0

    def udhcpc(self, ns, *extra, background=False):
        script = os.path.join(self.tmp, "udhcpc.sh")
        with open(script, "w") as f:
            f.write(UDHCPC_SCRIPT)
        os.chmod(script, 0o755)
        log = os.path.join(self.tmp, ns + ".udhcpc")
        cmd = ["ip", "netns", "exec", ns, "busybox", "udhcpc", "-i", "eth0", "-f", "-t", "5",
               "-T", "1", "-n", "-s", script, *extra]
        env = dict(os.environ, LOG=log)
        if background:
            p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            self.procs.append(p)
            return p, log
        p = subprocess.run(cmd + ["-q"], env=env, capture_output=True, text=True, timeout=30)
        return p, log

    def dhclient(self, ns, *extra, check=True):
        lease = os.path.join(self.tmp, ns + ".leases")
        pid = os.path.join(self.tmp, ns + ".pid")
        return run("dhclient", "-4", "-v", "-1", "-lf", lease, "-pf", pid, *extra, "eth0",
                   ns=ns, check=check, timeout=60)


class DhcpNetnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("dhclient", "busybox", "dhcpcd"):
            if shutil.which(tool) is None:
                raise AssertionError(f"{tool} missing: scripts/install-deps installs it")
        cls.lab = Lab()
        try:
            cls.lab.up()
            dhcp = {"lease_s": 120, "dns_servers": ["192.0.2.53"], "domain": "example.test"}
            for pool in ({"name": "lan", "cidr": "192.0.2.0/25", "gateway": "192.0.2.1",
                          "ranges": ["192.0.2.10-192.0.2.100"], "dhcp": dhcp},
                         {"name": "lan2", "cidr": "192.0.2.128/26", "gateway": "192.0.2.129",
                          "dhcp": dhcp},
                         {"name": "probe", "cidr": "192.0.2.192/27", "gateway": "192.0.2.193",
                          "ranges": ["192.0.2.200-192.0.2.210"], "dhcp": dhcp},
                         {"name": "relayed", "cidr": "203.0.113.0/24", "gateway": "203.0.113.1",
                          "dhcp": dhcp}):
                status, out = cls.lab.api("POST", "/v1/pools", pool)
                assert status == 201, out
            time.sleep(1.1)  # the server reads its pools at most once a second
        except BaseException:
            cls.lab.down()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.lab.down()

    def assertLeased(self, ns, pool_prefix):
        address = wait_for(ns + " address", lambda: v4_of(ns))[0]
        self.assertTrue(address.startswith(pool_prefix), address)
        binding = self.lab.binding_of(mac_of(ns))
        self.assertIsNotNone(binding, f"no binding for {ns}'s MAC")
        self.assertEqual((binding["state"], binding["addresses"]), ("active", [address]))
        self.assertEqual(binding["labels"].get("source"), "dhcp")
        self.assertEqual(binding["host"], "node-1")
        return address, binding

    def test_1_dhclient_lease_reboot_move_and_release(self):
        lab = self.lab
        ns = lab.client("dhc")
        lab.dhclient(ns)
        address, binding = self.assertLeased(ns, "192.0.2.")
        # INIT-REBOOT: stop without releasing, forget the address, start again: the client asks
        # for its old address and gets it without a DISCOVER.
        discovers = lab.metric("netledger_dhcp_received_total", type="DISCOVER")
        lab.dhclient(ns, "-x")
        run("ip", "-4", "addr", "flush", "dev", "eth0", ns=ns)
        lab.dhclient(ns)
        self.assertEqual(self.assertLeased(ns, "192.0.2.")[0], address)
        self.assertEqual(lab.metric("netledger_dhcp_received_total", type="DISCOVER"), discovers)
        # Moved to another network: its INIT-REBOOT is NAKed, then it gets an address there.
        naks = lab.metric("netledger_dhcp_sent_total", type="NAK")
        lab.dhclient(ns, "-x")
        run("ip", "-4", "addr", "flush", "dev", "eth0", ns=ns)
        lab.move(ns, "br1")
        lab.dhclient(ns)
        moved, _ = self.assertLeased(ns, "192.0.2.1")
        self.assertGreaterEqual(int(moved.split(".")[-1]), 130, moved)
        self.assertEqual(lab.metric("netledger_dhcp_sent_total", type="NAK"), naks + 1)
        status, old = lab.api("GET", f"/v1/bindings/{binding['id']}")
        self.assertEqual(status, 404, old)  # released: gone from the live ledger
        # RELEASE: the binding ends and its address goes to quarantine.
        moved_binding = lab.binding_of(mac_of(ns))
        lab.dhclient(ns, "-r")
        wait_for("release", lambda: lab.binding_of(mac_of(ns)) is None)
        status, out = lab.api("GET", f"/v1/bindings/{moved_binding['id']}")
        self.assertEqual(status, 404, out)

    def test_2_udhcpc_renews_and_survives_kill_9(self):
        lab = self.lab
        ns = lab.client("udh")
        proc, log = lab.udhcpc(ns, background=True)
        address, binding = self.assertLeased(ns, "192.0.2.")
        # kill -9 between the ACK and the next renewal: the lease is in the ledger.
        lab.server.send_signal(signal.SIGKILL)
        lab.server.wait()
        lab.start_server()
        after = lab.binding_of(mac_of(ns))
        self.assertEqual((after["id"], after["addresses"], after["state"]),
                         (binding["id"], [address], "active"))
        proc.send_signal(signal.SIGUSR1)  # renew now (unicast REQUEST with ciaddr)
        wait_for("renew ACK", lambda: lab.metric("netledger_dhcp_sent_total", type="ACK") >= 1)
        wait_for("renew in udhcpc's log", lambda: "renew " + address in open(log).read())
        renewed = lab.binding_of(mac_of(ns))
        self.assertEqual(renewed["addresses"], [address])
        self.assertGreater(renewed["version"], binding["version"])
        proc.send_signal(signal.SIGUSR2)  # release
        wait_for("release", lambda: lab.binding_of(mac_of(ns)) is None)

    def test_3_dhcpcd(self):
        lab = self.lab
        ns = lab.client("dcd")
        run("dhcpcd", "-4", "-1", "-w", "-p", "-L", "-c", "/bin/true", "-f", "/dev/null",
            "--noipv4ll", "-t", "20", "eth0", ns=ns, timeout=60)
        self.assertLeased(ns, "192.0.2.")
        run("dhcpcd", "-k", "eth0", ns=ns, check=False, timeout=30)

    def test_4_a_squatter_is_skipped_by_the_probe(self):
        lab = self.lab
        squatter = lab.client("sq", bridge="br2")
        run("ip", "addr", "add", "192.0.2.200/27", "dev", "eth0", ns=squatter)
        # The squatter answers on the wire before the client asks (arping -D exits 1 on a reply).
        wait_for("squatter on the wire", lambda: run(
            "arping", "-D", "-c1", "-w1", "-I", "br2", "192.0.2.200", ns=NODE_NS,
            check=False).returncode == 1)
        ns = lab.client("prb", bridge="br2")
        p, _ = lab.udhcpc(ns)
        self.assertEqual(p.returncode, 0, p.stderr)
        address, _ = self.assertLeased(ns, "192.0.2.2")
        self.assertEqual(address, "192.0.2.201")
        self.assertEqual(lab.metric("netledger_dhcp_probe_in_use_total"), 1)

        def conflict():
            status, out = lab.api("GET", "/v1/conflicts?kind=unknown_station")
            return [c for c in out["items"] if c.get("ip") == "192.0.2.200"]
        found = wait_for("unknown_station conflict", conflict)
        self.assertIn(mac_of(squatter), json.dumps(found[0]))

    def test_5_declines_stop_at_the_budget(self):
        lab = self.lab
        ns = lab.client("dec")
        p = run("python3", os.path.join(HERE, "dhcp_client.py"), "decline", "eth0",
                mac_of(ns), "5", ns=ns, timeout=60)
        rounds = json.loads(p.stdout)
        self.assertEqual(len([r for r in rounds[:3] if r and not r.startswith("no-")]), 3, rounds)
        self.assertEqual(len(set(rounds[:3])), 3, rounds)  # a declined address is not offered again
        self.assertEqual(rounds[3:], [None, None], rounds)
        self.assertEqual(lab.metric("netledger_dhcp_dropped_total", reason="decline_backoff"), 2)
        status, out = lab.api("GET", "/v1/conflicts?kind=dhcp_decline")
        self.assertEqual([c["mac"] for c in out["items"]], [mac_of(ns)], out)
        status, out = lab.api("GET", "/v1/conflicts?kind=duplicate_ip")
        declined = {c["ip"] for c in out["items"] if mac_of(ns) in c.get("macs", [])}
        self.assertEqual(declined, set(rounds[:3]), out)

    def test_6_relayed_with_option_82(self):
        p = run("python3", os.path.join(HERE, "dhcp_client.py"), "relay", "203.0.113.1",
                "198.51.100.1", "02:00:00:00:00:82", ns=RELAY_NS, timeout=30)
        out = json.loads(p.stdout)
        self.assertTrue(out["offer"] and out["offer"].startswith("203.0.113."), out)
        self.assertEqual(out["ack"], out["offer"], out)
        self.assertEqual((out["offer_82"], out["ack_82"]), (out["sent_82"], out["sent_82"]))
        binding = self.lab.binding_of("02:00:00:00:00:82")
        self.assertEqual(binding["labels"].get("dhcp.relay"), "203.0.113.1", binding)

    def test_7_bad_packets_are_counted_not_answered(self):
        import socket
        lab = self.lab
        before = lab.metric("netledger_dhcp_dropped_total", reason="malformed")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for junk in (b"\x01" * 10, b"\x01" * 236 + b"junk", b"\x01" * 300):
            s.sendto(junk, ("198.51.100.1", 67))
        wait_for("drops counted", lambda: lab.metric("netledger_dhcp_dropped_total",
                                                      reason="malformed") >= before + 3)
        status, _ = lab.api("GET", "/v1/pools/lan")
        self.assertEqual(status, 200)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("skipped: needs root (network namespaces, raw sockets)", file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
