"""Debian's nginx as the HTTP ceiling of the machine for api_vs_nginx_ratio: one instance on a
loopback port of a temporary prefix, answering every request (the same POSTs the API benchmark
sends) with a fixed small 201 JSON body. One worker per core; no access log."""
import os
import shutil
import socket
import subprocess
import sys
import time

CONFIG = """daemon off;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path {prefix}/body;
  server {{
    listen 127.0.0.1:{port} backlog=1024;
    location / {{
      default_type application/json;
      return 201 '{{"name":"vm-0","addresses":["10.0.0.1"]}}';
    }}
  }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    def __init__(self, prefix, workers=os.cpu_count() or 2):
        binary = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        if not binary:
            sys.exit("nginx is not installed (scripts/install-deps)")
        self.port = free_port()
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CONFIG.format(workers=workers, prefix=prefix, port=self.port))
        self.proc = subprocess.Popen([binary, "-p", prefix, "-c", conf, "-e", "stderr"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit("nginx exited at start-up (run it by hand with this config to see why)")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        sys.exit("nginx did not start listening within 10 s")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
