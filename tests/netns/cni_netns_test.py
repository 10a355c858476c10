#!/usr/bin/env python3
"""netledger-cni driven by the reference CNI plugins (Debian containernetworking-plugins): #6.

Topology, all created here and deleted afterwards: a node namespace holding netledgerd (on its
loopback) and whatever the plugins create there (the bridge plugin's cni bridge, ptp's host
veths); sandbox namespaces for the "pods". The plugins run via `ip netns exec NODE` so their
bridges and host-side interfaces land in the node namespace, never in the root namespace; the
sandbox is CNI_NETNS=/var/run/netns/NAME. Only documentation prefixes, no route out (ipMasq
off, no uplink in the node namespace).

The test process enters the node namespace (setns) to reach netledgerd, as the agent test does.
Needs root. Run by ctest: NETLEDGER_BIN_DIR names the build's bin/.
"""
import concurrent.futures
import json
import os
import sys
import shutil
import signal
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns_util import api_call, run, setns, start_netledgerd  # noqa: E402


BIN = os.path.abspath(os.environ.get("NETLEDGER_BIN_DIR",
                                     os.path.join(os.path.dirname(__file__), "../../build/bin")))
CNI_DIR = os.environ.get("CNI_PLUGIN_DIR", "/usr/lib/cni")
TAG = "nc%05d" % (os.getpid() % 100000)
NODE_NS = TAG + "n"
NODE = "node-1"
TOKEN = "cni-netns-admin-token-" + TAG


class Lab:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="netledger-cni-")
        self.sandboxes = []
        self.server = None
        self.port = 0
        self.token_file = os.path.join(self.tmp, "token")
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(self.token_file, 0o600)
        self.root_ns = os.open("/proc/self/ns/net", os.O_RDONLY)

    def up(self):
        run("ip", "netns", "add", NODE_NS)
        run("ip", "link", "set", "lo", "up", ns=NODE_NS)
        setns(f"/var/run/netns/{NODE_NS}")
        self.start_server()

    def start_server(self, port=0):
        self.server, self.port = start_netledgerd(BIN, self.tmp, TOKEN, port)

    def stop_server(self):
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(timeout=20)
        self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def down(self):
        self.stop_server()
        for ns in self.sandboxes:
            run("ip", "netns", "del", ns, check=False)
        run("ip", "netns", "del", NODE_NS, check=False)
        setns("/proc/self/fd/%d" % self.root_ns)
        if os.environ.get("KEEP_TMP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def sandbox(self, i):
        ns = f"{TAG}s{i}"
        run("ip", "netns", "add", ns)
        run("ip", "link", "set", "lo", "up", ns=ns)
        self.sandboxes.append(ns)
        return ns

    def api(self, method, path, body=None):
        return api_call(self.port, TOKEN, method, path, body)

    def live_bindings(self, instance):
        status, out = self.api("GET", "/v1/bindings?limit=1000&instance=" + instance)
        assert status == 200, out
        return [b for b in out["items"] if b["state"] in ("reserved", "active")]

    def plugin(self, plugin, command, ns, conf, ifname="eth0", container=None):
        """Execs a plugin as a runtime does; returns (exit code, parsed stdout or None)."""
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
               "CNI_COMMAND": command, "CNI_CONTAINERID": container or ns,
               "CNI_NETNS": f"/var/run/netns/{ns}", "CNI_IFNAME": ifname,
               "CNI_PATH": f"{CNI_DIR}:{BIN}"}
        path = os.path.join(BIN if plugin == "netledger-cni" else CNI_DIR, plugin)
        p = run(path, ns=NODE_NS, check=False, env=env, stdin=json.dumps(conf))
        out = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, out

    def add_chain(self, main_conf, ns, chained_conf):
        """A two-plugin conflist by hand: the main plugin (IPAM netledger-cni), then netledger-cni
        chained with the main plugin's result as prevResult."""
        rc, result = self.plugin(main_conf["type"], "ADD", ns, main_conf)
        if rc != 0:
            return rc, result
        conf = dict(chained_conf, prevResult=result)
        return self.plugin("netledger-cni", "ADD", ns, conf)


def mac_of(ns, ifname="eth0"):
    return json.loads(run("ip", "-j", "link", "show", ifname, ns=ns).stdout)[0]["address"]


def v4_of(ns, ifname="eth0"):
    info = json.loads(run("ip", "-j", "-4", "addr", "show", ifname, ns=ns).stdout)[0]
    return [a["local"] for a in info["addr_info"]]


def v6_global_of(ns, ifname="eth0"):
    info = json.loads(run("ip", "-j", "-6", "addr", "show", ifname, "scope", "global",
                          ns=ns).stdout)[0]
    # iproute2's JSON leaves an empty object for each address the filter dropped.
    return [a["local"] for a in info["addr_info"] if "local" in a]


def ping(ns, address, family="-4", tries=5):
    """Pings `address` from `ns`, retrying while IPv6 DAD and neighbour discovery settle."""
    for attempt in range(tries):
        p = run("ping", family, "-c1", "-W2", address, ns=ns, check=False)
        if p.returncode == 0:
            return
        time.sleep(0.5)
    state = "".join(run(*cmd, ns=where, check=False).stdout
                    for where in (ns, NODE_NS)
                    for cmd in (("ip", family, "addr"), ("ip", family, "route"),
                                ("ip", family, "neigh")))
    raise AssertionError(f"{ns}: ping {family} {address} failed: {p.stdout} {p.stderr}\n{state}")


class CniNetnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        for p in ("bridge", "ptp"):
            if not os.access(os.path.join(CNI_DIR, p), os.X_OK):
                raise AssertionError(f"{CNI_DIR}/{p} missing: install containernetworking-plugins")
        cls.lab = Lab()
        try:
            cls.lab.up()
            status, out = cls.lab.api("POST", "/v1/pools", {
                "name": "pods-v4", "cidr": "198.51.100.0/24", "gateway": "198.51.100.1"})
            assert status == 201, out
            status, out = cls.lab.api("POST", "/v1/pools", {
                "name": "pods-v6", "cidr": "2001:db8:1::/64", "gateway": "2001:db8:1::1"})
            assert status == 201, out
        except BaseException:
            cls.lab.down()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.lab.down()

    def bridge_conf(self, version="1.0.0"):
        return {"cniVersion": version, "name": "podnet", "type": "bridge", "bridge": "cni0",
                "isGateway": True, "ipMasq": False,
                "ipam": {"type": "netledger-cni", "server": self.lab.url,
                         "tokenFile": self.lab.token_file, "pools": ["pods-v4"], "host": NODE,
                         "routes": [{"dst": "198.51.100.0/24"}],
                         "dns": {"nameservers": ["198.51.100.53"]}}}

    def chained_conf(self, version="1.0.0"):
        return {"cniVersion": version, "name": "podnet", "type": "netledger-cni",
                "server": self.lab.url, "tokenFile": self.lab.token_file, "host": NODE}

    def test_1_bridge_50_sandboxes(self):
        lab = self.lab
        names = [lab.sandbox(i) for i in range(50)]
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(
                lambda ns: lab.add_chain(self.bridge_conf(), ns, self.chained_conf()), names))
        elapsed = time.monotonic() - t0
        print(f"\n50 bridge ADDs (8 at a time) in {elapsed:.2f} s", flush=True)
        for ns, (rc, out) in zip(names, results):
            self.assertEqual(rc, 0, f"{ns}: {out}")
        addresses = {}
        for ns, (rc, out) in zip(names, results):
            ips = [ip["address"] for ip in out["ips"]]
            self.assertEqual(len(ips), 1, out)
            self.assertTrue(ips[0].startswith("198.51.100.") and ips[0].endswith("/24"), ips)
            self.assertEqual(out["ips"][0]["gateway"], "198.51.100.1")
            self.assertEqual(v4_of(ns), [ips[0].split("/")[0]])
            addresses[ns] = ips[0].split("/")[0]
        self.assertEqual(len(set(addresses.values())), 50, "addresses must be unique")
        # The ledger: one active binding per sandbox, with the pod interface's MAC and the node.
        for ns in names:
            live = lab.live_bindings(ns)
            self.assertEqual(len(live), 1, live)
            b = live[0]
            self.assertEqual(b["addresses"], [addresses[ns]])
            self.assertEqual(b["mac"], mac_of(ns))
            self.assertEqual(b["host"], NODE)
            self.assertEqual(b["interface"], "eth0")
        # Connectivity: every sandbox reaches the gateway (the bridge), pairs reach each other.
        for ns in names:
            run("ping", "-c1", "-W2", "198.51.100.1", ns=ns)
        for a, b in zip(names[0:50:7], names[3:50:7]):
            run("ping", "-c1", "-W2", addresses[b], ns=a)
        # Repeated ADD (IPAM, same container and ifname) answers the same address.
        rc, again = lab.plugin("netledger-cni", "ADD", names[0], self.bridge_conf())
        self.assertEqual(rc, 0, again)
        self.assertEqual(again["ips"][0]["address"], addresses[names[0]] + "/24")
        self.assertEqual(again["routes"], [{"dst": "198.51.100.0/24"}])
        self.assertEqual(again["dns"], {"nameservers": ["198.51.100.53"]})
        self.assertEqual(len(lab.live_bindings(names[0])), 1)
        # CHECK agrees with the runtime's result; a wrong prevResult is a mismatch.
        conf = dict(self.bridge_conf(), prevResult=results[0][1])
        rc, out = lab.plugin("bridge", "CHECK", names[0], conf)
        self.assertEqual(rc, 0, out)
        # DEL through the bridge releases; a second DEL and an unknown container succeed.
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            dels = list(pool.map(lambda ns: lab.plugin("bridge", "DEL", ns, self.bridge_conf()),
                                 names))
        for ns, (rc, out) in zip(names, dels):
            self.assertEqual(rc, 0, f"{ns}: {out}")
            self.assertEqual(lab.live_bindings(ns), [])
        rc, out = lab.plugin("netledger-cni", "DEL", names[0], self.bridge_conf())
        self.assertEqual(rc, 0, out)
        rc, out = lab.plugin("netledger-cni", "DEL", names[0], self.bridge_conf(),
                             container="never-seen")
        self.assertEqual(rc, 0, out)

    def test_2_server_down_is_retryable_and_leaks_nothing(self):
        lab = self.lab
        ns = lab.sandbox(100)
        port = lab.port
        lab.stop_server()
        t0 = time.monotonic()
        rc, out = lab.plugin("bridge", "ADD", ns, self.bridge_conf())
        self.assertNotEqual(rc, 0)
        self.assertEqual(out["code"], 11, out)
        self.assertLess(time.monotonic() - t0, 15)
        # The runtime cleans up with DEL; while the server is away that is retryable too.
        rc, out = lab.plugin("bridge", "DEL", ns, self.bridge_conf())
        self.assertNotEqual(rc, 0)
        self.assertEqual(out["code"], 11, out)
        lab.start_server(port)
        self.assertEqual(lab.live_bindings(ns), [])
        rc, out = lab.plugin("bridge", "DEL", ns, self.bridge_conf())
        self.assertEqual(rc, 0, out)
        # Back: the retried ADD works.
        rc, out = lab.add_chain(self.bridge_conf(), ns, self.chained_conf())
        self.assertEqual(rc, 0, out)
        self.assertEqual(len(lab.live_bindings(ns)), 1)
        rc, out = lab.plugin("bridge", "DEL", ns, self.bridge_conf())
        self.assertEqual(rc, 0, out)
        self.assertEqual(lab.live_bindings(ns), [])

    def test_3_ptp_with_host_local_syntax(self):
        lab = self.lab
        conf = {"cniVersion": "0.4.0", "name": "ptpnet", "type": "ptp", "ipMasq": False,
                "ipam": {"type": "netledger-cni", "server": lab.url, "tokenFile": lab.token_file,
                         "host": NODE,
                         "ranges": [[{"subnet": "203.0.113.0/24", "rangeStart": "203.0.113.10",
                                      "rangeEnd": "203.0.113.50", "gateway": "203.0.113.1"}]]}}
        names = [lab.sandbox(200 + i) for i in range(3)]
        addrs = []
        for ns in names:
            rc, out = lab.add_chain(conf, ns, dict(self.chained_conf("0.4.0"), name="ptpnet"))
            self.assertEqual(rc, 0, out)
            ip = out["ips"][0]
            self.assertEqual(ip["version"], "4")
            a = ip["address"].split("/")[0]
            self.assertTrue(10 <= int(a.split(".")[3]) <= 50, ip)
            addrs.append(a)
            run("ping", "-c1", "-W2", "203.0.113.1", ns=ns)
            live = lab.live_bindings(ns)[0]
            self.assertEqual(live["mac"], mac_of(ns))
            # ptp creates the pod's interface after IPAM: the chained step recorded the MAC.
            self.assertEqual(len(self.updates_of(live["id"])), 1)
        self.assertEqual(len(set(addrs)), 3)
        status, pool = lab.api("GET", "/v1/pools/ptpnet-203-0-113-0-24")
        self.assertEqual(status, 200, pool)
        self.assertEqual(pool["ranges"], ["203.0.113.10-203.0.113.50"])
        for ns in names:
            rc, out = lab.plugin("ptp", "DEL", ns, conf)
            self.assertEqual(rc, 0, out)
            self.assertEqual(lab.live_bindings(ns), [])

    def test_5_dual_stack_bridge(self):
        """pods-v4 and pods-v6 through the bridge plugin: one binding per sandbox holding both
        addresses, both configured in the sandbox, the bridge (isGateway) answering on both."""
        lab = self.lab
        conf = self.bridge_conf()
        conf["ipam"] = dict(conf["ipam"], pools=["pods-v4", "pods-v6"])
        names = [lab.sandbox(400 + i) for i in range(2)]
        v4, v6 = {}, {}
        for ns in names:
            rc, out = lab.add_chain(conf, ns, self.chained_conf())
            self.assertEqual(rc, 0, out)
            self.assertEqual(len(out["ips"]), 2, out)
            four = [ip for ip in out["ips"] if ":" not in ip["address"]]
            six = [ip for ip in out["ips"] if ":" in ip["address"]]
            self.assertEqual(len(four), 1, out)
            self.assertEqual(len(six), 1, out)
            self.assertTrue(four[0]["address"].startswith("198.51.100."), four)
            self.assertTrue(four[0]["address"].endswith("/24"), four)
            self.assertEqual(four[0]["gateway"], "198.51.100.1")
            self.assertTrue(six[0]["address"].startswith("2001:db8:1::"), six)
            self.assertTrue(six[0]["address"].endswith("/64"), six)
            self.assertEqual(six[0]["gateway"], "2001:db8:1::1")
            v4[ns] = four[0]["address"].split("/")[0]
            v6[ns] = six[0]["address"].split("/")[0]
            # The sandbox has both configured.
            self.assertEqual(v4_of(ns), [v4[ns]])
            self.assertEqual(v6_global_of(ns), [v6[ns]])
            # The ledger: one binding, both addresses, the pod's MAC and node.
            live = lab.live_bindings(ns)
            self.assertEqual(len(live), 1, live)
            self.assertEqual(sorted(live[0]["addresses"]), sorted([v4[ns], v6[ns]]))
            self.assertEqual(live[0]["mac"], mac_of(ns))
            self.assertEqual(live[0]["host"], NODE)
            status, holder = lab.api("GET", "/v1/addresses/" + v6[ns])
            self.assertEqual((status, holder["id"]), (200, live[0]["id"]), holder)
        self.assertNotEqual(v6[names[0]], v6[names[1]])
        # The bridge carries both gateways (the bridge plugin's isGateway), in the node namespace.
        bridge6 = json.loads(run("ip", "-j", "-6", "addr", "show", "cni0", "scope", "global",
                                 ns=NODE_NS).stdout)[0]
        self.assertIn("2001:db8:1::1", [a.get("local") for a in bridge6["addr_info"]])
        for ns in names:
            ping(ns, "2001:db8:1::1", "-6")
            ping(ns, "198.51.100.1", "-4")
        ping(names[0], v6[names[1]], "-6")
        # DEL releases the binding with both of its addresses.
        for ns in names:
            rc, out = lab.plugin("bridge", "DEL", ns, conf)
            self.assertEqual(rc, 0, out)
            self.assertEqual(lab.live_bindings(ns), [])
            status, _ = lab.api("GET", "/v1/addresses/" + v6[ns])
            self.assertEqual(status, 404)

    def updates_of(self, binding_id):
        """The binding.update audit events of one binding (what the chained step wrote)."""
        status, out = self.lab.api("GET", "/v1/audit?op=binding.update&limit=1000")
        self.assertEqual(status, 200, out)
        return [e for e in out["items"] if e["subject"] == "binding:" + binding_id]

    def test_6_bridge_ipam_records_the_mac(self):
        """bridge creates the pod's veth before it execs its IPAM plugin: the IPAM step reads the
        interface's MAC inside the sandbox and the binding is created complete, without the
        chained step. The chained step then writes nothing, unless the MAC changed."""
        lab = self.lab
        names = [lab.sandbox(500 + i) for i in range(4)]
        results = {}
        for ns in names:
            rc, out = lab.plugin("bridge", "ADD", ns, self.bridge_conf())
            self.assertEqual(rc, 0, out)
            results[ns] = out
            live = lab.live_bindings(ns)
            self.assertEqual(len(live), 1, live)
            self.assertEqual(live[0]["mac"], mac_of(ns))
            self.assertEqual(live[0]["host"], NODE)
            self.assertEqual(live[0]["addresses"], [v4_of(ns)[0]])
        # The chained step (same node) finds the row complete: no update.
        ns = names[0]
        rc, out = lab.plugin("netledger-cni", "ADD", ns,
                             dict(self.chained_conf(), prevResult=results[ns]))
        self.assertEqual(rc, 0, out)
        binding = lab.live_bindings(ns)[0]
        self.assertEqual(self.updates_of(binding["id"]), [])
        # The pod's MAC changed after IPAM: the chained step records the one in its prevResult.
        ns = names[1]
        new_mac = "0a:58:c6:33:64:f1"
        run("ip", "link", "set", "eth0", "address", new_mac, ns=ns)
        prev = json.loads(json.dumps(results[ns]))
        for itf in prev["interfaces"]:
            if itf.get("sandbox"):
                itf["mac"] = new_mac
        rc, out = lab.plugin("netledger-cni", "ADD", ns, dict(self.chained_conf(), prevResult=prev))
        self.assertEqual(rc, 0, out)
        binding = lab.live_bindings(ns)[0]
        self.assertEqual(binding["mac"], new_mac)
        self.assertEqual(binding["mac"], mac_of(ns))
        self.assertEqual(len(self.updates_of(binding["id"])), 1)
        # Another node's chained step moves the host, nothing else.
        ns = names[2]
        rc, out = lab.plugin("netledger-cni", "ADD", ns,
                             dict(self.chained_conf(), host="node-2", prevResult=results[ns]))
        self.assertEqual(rc, 0, out)
        binding = lab.live_bindings(ns)[0]
        self.assertEqual((binding["host"], binding["mac"]), ("node-2", mac_of(ns)))
        for ns in names:
            rc, out = lab.plugin("bridge", "DEL", ns, self.bridge_conf())
            self.assertEqual(rc, 0, out)
            self.assertEqual(lab.live_bindings(ns), [])

    def test_4_errors(self):
        lab = self.lab
        ns = lab.sandbox(300)
        bad = self.bridge_conf()
        bad["ipam"] = dict(bad["ipam"], pools="pods-v4")
        rc, out = lab.plugin("netledger-cni", "ADD", ns, bad)
        self.assertEqual((rc != 0, out["code"]), (True, 7), out)
        self.assertIn("pools", out["msg"])
        rc, out = lab.plugin("netledger-cni", "ADD", ns, dict(self.bridge_conf(), cniVersion="9.9.9"))
        self.assertEqual(out["code"], 1, out)
        missing = dict(self.bridge_conf())
        missing["ipam"] = dict(missing["ipam"], pools=["no-such-pool"])
        rc, out = lab.plugin("netledger-cni", "ADD", ns, missing)
        self.assertEqual(out["code"], 7, out)
        rc, out = lab.plugin("netledger-cni", "VERSION", ns, {"cniVersion": "1.0.0"})
        self.assertEqual(out["supportedVersions"], ["0.3.1", "0.4.0", "1.0.0"])


if __name__ == "__main__":
    if os.geteuid() != 0:
        # Reported to ctest as skipped (SKIP_RETURN_CODE 77), never as passed.
        print("skipped: needs root (network namespaces, raw sockets)", file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
