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
