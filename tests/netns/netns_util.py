"""Shared by the namespace tests: running commands (optionally inside a namespace) and moving
this process's network namespace with setns(2)."""
import ctypes
import os
import subprocess

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def run(*args, ns=None, check=True, timeout=60, env=None, stdin=None):
    """Runs a command (inside namespace `ns` via `ip netns exec` when given); raises with its
    stderr when `check` and it fails."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, input=stdin)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> {p.returncode}: {p.stderr.strip()} {p.stdout}")
    return p


def setns(path):
    """Moves this (single-threaded) process into the network namespace at `path`."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
    finally:
        os.close(fd)


def start_netledgerd(bin_dir, tmp, token, port=0, extra=()):
    """Starts netledgerd (data and log in `tmp`, the first admin token `token`) on loopback of
    the current namespace; returns (process, bound port) once it serves."""
    import time
    port_file = os.path.join(tmp, "port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    env = dict(os.environ, NETLEDGER_BOOTSTRAP_TOKEN=token)
    log_path = os.path.join(tmp, "netledgerd.log")
    with open(log_path, "a") as log:
        server = subprocess.Popen(
            [os.path.join(bin_dir, "netledgerd"), "--listen", f"127.0.0.1:{port}", "--data-dir",
             os.path.join(tmp, "data"), "--port-file", port_file, *extra],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 20
    while not (os.path.exists(port_file) and os.path.getsize(port_file) > 0):
        if time.monotonic() > deadline or server.poll() is not None:
            with open(log_path) as f:
                raise RuntimeError("netledgerd did not start: " + f.read()[-2000:])
        time.sleep(0.02)
    with open(port_file) as f:
        return server, int(f.read().strip())


def api_call(port, token, method, path, body=None):
    """One REST call to netledgerd on loopback: (HTTP status, parsed JSON or text)."""
    import json
    import urllib.error
    import urllib.request
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text.startswith(("{", "[")) else text)
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        return e.code, (json.loads(text) if text.startswith("{") else text)
