#!/usr/bin/env python3
"""esl_tool.py — a minimal Event Socket client for irisx's shell interop tests.

    esl_tool.py api   --port P --password W COMMAND...   print an api reply
    esl_tool.py watch --port P --password W --out FILE   record events (JSON lines)
    esl_tool.py find  FILE [--name N] [--where K=V]...   print matching events
    esl_tool.py greet --port P [--source IP]             print the greeting's type
    esl_tool.py bgapi --port P --password W COMMAND...   print the Job-UUID

api, watch and bgapi take --source IP too: the address the client connects
from (any 127.0.0.0/8 address), for tests of the Event Socket's ACL.

`watch` subscribes to `event plain ALL`, writes one JSON object per event
(header names to URL-decoded values, the body under "_body") and flushes
after each, until SIGTERM. `find` prints the matching events of such a file,
one per line, oldest first; with --count it prints how many matched, and
with --get KEY the value of KEY in each. The modesl tests (tests/interop/esl)
check the protocol itself; this is only the shell tests' window on events.
"""

import argparse
import json
import signal
import socket
import sys
import urllib.parse


class Conn:
    def __init__(self, port, password, timeout=10, source=None):
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self.buf = b""
        if password is None:
            return
        head, _ = self.read()
        if head.get("Content-Type") != "auth/request":
            sys.exit("no auth/request greeting")
        self.send("auth " + password)
        head, _ = self.read()
        if not head.get("Reply-Text", "").startswith("+OK"):
            sys.exit("auth refused: %s" % head.get("Reply-Text"))

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n\n")

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def read(self):
        while b"\n\n" not in self.buf:
            self._fill()
        raw, self.buf = self.buf.split(b"\n\n", 1)
        head = {}
        for line in raw.decode(errors="replace").split("\n"):
            k, _, v = line.partition(": ")
            head[k] = v
        n = int(head.get("Content-Length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return head, body.decode(errors="replace")


def parse_plain(body):
    """An event in text/event-plain: headers, a blank line, maybe a body."""
    head, _, rest = body.partition("\n\n")
    ev = {}
    for line in head.split("\n"):
        k, _, v = line.partition(": ")
        if k:
            ev[k] = urllib.parse.unquote(v)
    if rest:
        ev["_body"] = rest
    return ev


def cmd_greet(a):
    c = Conn(a.port, None, source=a.source)
    try:
        head, _ = c.read()
    except (EOFError, OSError):
        print("closed")
        return 0
    print(head.get("Content-Type", ""))
    return 0


def cmd_bgapi(a):
    c = Conn(a.port, a.password, source=a.source)
    c.send("bgapi " + " ".join(a.command))
    while True:
        head, _ = c.read()
        if head.get("Content-Type") == "command/reply":
            print(head.get("Job-UUID", ""))
            return 0


def cmd_api(a):
    c = Conn(a.port, a.password, timeout=a.timeout, source=a.source)
    c.send("api " + " ".join(a.command))
    while True:
        head, body = c.read()
        if head.get("Content-Type") == "api/response":
            sys.stdout.write(body)
            return 0


def cmd_watch(a):
    c = Conn(a.port, a.password, source=a.source)
    c.sock.settimeout(None)
    out = open(a.out, "w")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1) or sys.exit(0))
    c.send("event plain " + a.events)
    while not stop:
        try:
            head, body = c.read()
        except (EOFError, OSError):
            return 0
        if head.get("Content-Type") == "text/event-plain":
            out.write(json.dumps(parse_plain(body)) + "\n")
            out.flush()
        elif head.get("Content-Type") == "command/reply":
            # the subscription's reply: tell the test we are listening
            if a.ready:
                open(a.ready, "w").write("ok\n")
    return 0


def cmd_find(a):
    wants = [w.split("=", 1) for w in a.where]
    n = 0
    try:
        lines = open(a.file).read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if a.name and ev.get("Event-Name") != a.name and ev.get("Event-Subclass") != a.name:
            continue
        if any(ev.get(k) != v for k, v in wants):
            continue
        n += 1
        if a.count:
            continue
        print(ev.get(a.get, "") if a.get else json.dumps(ev))
    if a.count:
        print(n)
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("api")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--timeout", type=float, default=60)
    s.add_argument("--source")
    s.add_argument("command", nargs="+")
    s = sub.add_parser("bgapi")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--source")
    s.add_argument("command", nargs="+")
    s = sub.add_parser("greet")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--source")
    s = sub.add_parser("watch")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--ready")
    s.add_argument("--events", default="ALL")
    s.add_argument("--source")
    s = sub.add_parser("find")
    s.add_argument("file")
    s.add_argument("--name")
    s.add_argument("--where", action="append", default=[])
    s.add_argument("--get")
    s.add_argument("--count", action="store_true")
    a = p.parse_args()
    return {"api": cmd_api, "watch": cmd_watch, "find": cmd_find, "greet": cmd_greet,
            "bgapi": cmd_bgapi}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
