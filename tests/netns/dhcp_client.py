#!/usr/bin/env python3
"""A scripted DHCPv4 client or relay agent for the namespace test, with plain UDP sockets
(run inside a namespace with `ip netns exec`). It does what the real clients will not do on
purpose: DECLINE every address it is given, or speak as a relay (giaddr, option 82).

  dhcp_client.py decline IFACE MAC ROUNDS   -> JSON list, per round the offered address or null
  dhcp_client.py relay GIADDR SERVER MAC    -> JSON {"offer", "ack", "offer_82", "ack_82"}
"""
import json
import os
import random
import socket
import struct
import sys

MAGIC = bytes([99, 130, 83, 99])
RELAY_INFO = bytes([1, 6]) + b"port-7" + bytes([2, 4]) + b"rack"  # circuit id, remote id


def packet(mtype, mac, xid, options=(), giaddr="0.0.0.0", ciaddr="0.0.0.0", flags=0x8000,
           hops=0):
    head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, hops, xid, 0, flags,
                       socket.inet_aton(ciaddr), bytes(4), bytes(4), socket.inet_aton(giaddr),
                       bytes.fromhex(mac.replace(":", "")) + bytes(10), bytes(64), bytes(128))
    body = bytes([53, 1, mtype])
    for code, data in options:
        body += bytes([code, len(data)]) + data
    return head + MAGIC + body + bytes([255]) + bytes(max(0, 60 - len(body)))


def parse(data):
    if len(data) < 240 or data[236:240] != MAGIC:
        return None
    out = {"xid": struct.unpack("!I", data[4:8])[0], "yiaddr": socket.inet_ntoa(data[16:20]),
           "options": {}}
    i = 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        code, length = data[i], data[i + 1]
        out["options"][code] = data[i + 2:i + 2 + length]
        i += 2 + length
    out["type"] = out["options"].get(53, b"\0")[0]
    return out


def exchange(sock, dest, payload, xid, want, timeout=2.0):
    sock.settimeout(timeout)
    sock.sendto(payload, dest)
    try:
        while True:
            data, _ = sock.recvfrom(4096)
            reply = parse(data)
            if reply and reply["xid"] == xid and reply["type"] in want:
                return reply
    except socket.timeout:
        return None


def decline(iface, mac, rounds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.bind(("0.0.0.0", 68))
    dest = ("255.255.255.255", 67)
    results = []
    for _ in range(rounds):
        xid = random.getrandbits(32)
        offer = exchange(s, dest, packet(1, mac, xid), xid, {2})
        if offer is None:
            results.append(None)
            continue
        ip = offer["yiaddr"]
        server = offer["options"][54]
        ack = exchange(s, dest, packet(3, mac, xid, [(50, socket.inet_aton(ip)), (54, server)]),
                       xid, {5, 6})
        if ack is None or ack["type"] != 5:
            results.append("no-ack:" + ip)
            continue
        s.sendto(packet(4, mac, xid, [(50, socket.inet_aton(ip)), (54, server)]), dest)
        results.append(ip)
    return results


def relay(giaddr, server, mac):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 67))
    dest = (server, 67)
    xid = random.getrandbits(32)
    agent = [(82, RELAY_INFO)]
    offer = exchange(s, dest, packet(1, mac, xid, agent, giaddr=giaddr, flags=0, hops=1), xid, {2})
    out = {"offer": offer and offer["yiaddr"],
           "offer_82": offer and offer["options"].get(82, b"").hex()}
    if offer:
        req = [(50, socket.inet_aton(offer["yiaddr"])), (54, offer["options"][54])] + agent
        ack = exchange(s, dest, packet(3, mac, xid, req, giaddr=giaddr, flags=0, hops=1), xid,
                       {5, 6})
        out["ack"] = ack and ack["type"] == 5 and ack["yiaddr"]
        out["ack_82"] = ack and ack["options"].get(82, b"").hex()
    out["sent_82"] = RELAY_INFO.hex()
    return out


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "decline":
        print(json.dumps(decline(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    elif mode == "relay":
        print(json.dumps(relay(sys.argv[2], sys.argv[3], sys.argv[4])))
    else:
        sys.exit("unknown mode " + mode)
    sys.stdout.flush()
    os._exit(0)
