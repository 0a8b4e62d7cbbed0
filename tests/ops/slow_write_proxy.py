#!/usr/bin/env python3
"""A loopback HTTP proxy for tests/ops/systemd_test.sh: forwards every request to the fake
Salesforce and holds the answer to each write (any method but GET) until RELEASE_FILE exists, so
that `systemctl stop` can be sent while a record is in flight. The write reaches the fake at once
(the Lead exists), only the answer is late: cosyncd must still commit the link before it exits.

Usage: slow_write_proxy.py LISTEN_PORT UPSTREAM_PORT MARKER_FILE RELEASE_FILE
Each write appends "<method> <path>" to MARKER_FILE when it arrives. Prints "proxy ready PORT".
"""
import http.client
import http.server
import os
import sys
import time

listen_port, upstream_port = int(sys.argv[1]), int(sys.argv[2])
marker, release = sys.argv[3], sys.argv[4]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Salesforce serves it

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        is_write = self.command != "GET"
        if is_write:
            with open(marker, "a") as f:
                f.write(f"{self.command} {self.path}\n")
        upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        deadline = time.monotonic() + 30  # never hold one forever
        while is_write and not os.path.exists(release) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.send_response(answer.status, answer.reason)
        for k, v in answer.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = forward

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", listen_port), Handler)
server.daemon_threads = True
print(f"proxy ready {server.server_address[1]}", flush=True)
server.serve_forever()
