#!/usr/bin/env python3
"""Helpers of irisx's HTTP interop tests (tests/interop/test_http_*.sh).

  http_tool.py receiver --port P --out FILE [--ready FILE]
      an HTTP server on 127.0.0.1:P receiving status callbacks: each request
      becomes a JSON line in FILE ({method, path, query, type, body, form});
      answers 204.
  http_tool.py slow --http-port P --token T --esl-port E --password W --events N
      a WebSocket client of /v1/events?events=irisx::slow that reads nothing
      while an Event Socket connection fires N CUSTOM irisx::slow events;
      meanwhile `api status` on another Event Socket connection must answer
      within a second each time. Then the client reads: the events kept
      arrive in order, and CUSTOM irisx::events_dropped notices (one per
      gap) account for the rest with their Dropped-Count. Prints "kept K
      dropped D in N notices api_max_ms M"; exits 1 when a check fails.
  http_tool.py prom FILE
      parses FILE as the Prometheus text exposition format 0.0.4, strictly
      (every rule below is checked), and prints one line per sample:
      name{label="value",...} value (labels sorted). Exits 1 at the first
      violation, naming the line.
"""
import argparse
import http.server
import json
import math
import re
import sys
import urllib.parse

# ---- the status callback receiver ----


def receiver(args):
    out = open(args.out, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def handle_one(self):
            url = urllib.parse.urlsplit(self.path)
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
            ctype = self.headers.get("Content-Type") or ""
            rec = {"method": self.command, "path": url.path, "query": url.query,
                   "type": ctype, "body": body}
            if ctype.startswith("application/x-www-form-urlencoded"):
                rec["form"] = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
            elif ctype.startswith("application/json"):
                rec["form"] = json.loads(body)
            elif self.command == "GET" and url.query:
                rec["form"] = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            out.write(json.dumps(rec) + "\n")
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = handle_one
        do_GET = handle_one

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.ready:
        open(args.ready, "w").write("ready\n")
    srv.serve_forever()


# ---- a WebSocket client that does not read ----

def esl_connect(port, password):
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    buf = b""
    def frame():
        nonlocal buf
        while b"\n\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit("esl: connection closed")
            buf += chunk
        head, _, buf = buf.partition(b"\n\n")
        hdrs = dict(l.split(": ", 1) for l in head.decode().split("\n") if ": " in l)
        n = int(hdrs.get("Content-Length", 0))
        while len(buf) < n:
            buf += s.recv(65536)
        body, buf = buf[:n], buf[n:]
        return hdrs, body
    frame()
    s.sendall(b"auth %s\n\n" % password.encode())
    if "+OK" not in frame()[0].get("Reply-Text", ""):
        raise SystemExit("esl: auth refused")
    return s, frame


def ws_frames(sock, buf):
    """Yields (opcode, payload) of unmasked server frames from sock."""
    while True:
        while len(buf) < 2 or len(buf) < ws_need(buf):
            chunk = sock.recv(1 << 20)
            if not chunk:
                return
            buf += chunk
        n = ws_need(buf)
        ln = buf[1] & 0x7F
        off = 2 if ln < 126 else 4 if ln == 126 else 10
        yield buf[0] & 0x0F, bytes(buf[off:n])
        del buf[:n]


def ws_need(buf):
    if len(buf) < 2:
        return 2
    ln = buf[1] & 0x7F
    if ln < 126:
        return 2 + ln
    if ln == 126:
        return 4 + int.from_bytes(buf[2:4], "big") if len(buf) >= 4 else 4
    return 10 + int.from_bytes(buf[2:10], "big") if len(buf) >= 10 else 10


def slow(args):
    import base64, faulthandler, os, socket, threading, time
    faulthandler.dump_traceback_later(100, exit=True)
    # A small receive buffer (set before connecting, so the window fits it):
    # what the kernel holds for the client stays well under the flood.
    ws = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ws.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    ws.settimeout(10)
    ws.connect(("127.0.0.1", args.http_port))
    key = base64.b64encode(os.urandom(16)).decode()
    ws.sendall(("GET /v1/events?events=irisx::slow HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Key: %s\r\nAuthorization: Bearer %s\r\n\r\n" % (key, args.token)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += ws.recv(1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit("no 101: %r" % head[:100])
    # The flood, and the Event Socket's api answering meanwhile.
    prod, pframe = esl_connect(args.esl_port, args.password)
    api, aframe = esl_connect(args.esl_port, args.password)
    worst = [0.0]
    stop = threading.Event()
    def prober():
        while not stop.is_set():
            t = time.time()
            api.sendall(b"api status\n\n")
            aframe()
            worst[0] = max(worst[0], time.time() - t)
            time.sleep(0.05)
    th = threading.Thread(target=prober)
    th.start()
    batch = 500
    for start in range(0, args.events, batch):
        n = min(batch, args.events - start)
        prod.sendall(b"".join(b"sendevent CUSTOM\nEvent-Name: CUSTOM\nEvent-Subclass: irisx::slow\n"
                              b"X-N: %d\n\n" % i for i in range(start, start + n)))
        for _ in range(n):
            pframe()
    stop.set()
    th.join()
    # Now read: the kept events in order, then the notice.
    ws.settimeout(10)
    # Each gap is announced where it happened (the queue may fill again
    # after a notice): read until every event is accounted for.
    kept, last, dropped, notices = 0, -1, 0, 0
    for op, payload in ws_frames(ws, bytearray()):
        if op != 1:
            continue
        ev = json.loads(payload)
        if ev.get("Event-Subclass") == "irisx::events_dropped":
            dropped += int(ev["Dropped-Count"])
            notices += 1
            if int(ev["Last-Event-Sequence"]) and kept == 0:
                raise SystemExit("a notice before any event kept")
        else:
            n = int(ev["X-N"])
            if n <= last:
                raise SystemExit("out of order: %d after %d" % (n, last))
            last = n
            kept += 1
        if kept + dropped >= args.events:
            break
    print("kept %d dropped %d in %d notices api_max_ms %d" % (kept, dropped, notices,
                                                               worst[0] * 1000))
    if kept + dropped != args.events or kept == 0 or notices == 0:
        raise SystemExit("expected kept + dropped = %d" % args.events)
    if worst[0] > 1.0:
        raise SystemExit("api status took %.3f s during the flood" % worst[0])


# ---- a strict Prometheus text format 0.0.4 parser ----

METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class PromError(Exception):
    pass


def parse_value(s, where):
    if s in ("NaN",):
        return math.nan
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if not re.fullmatch(r"[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)", s):
        raise PromError("%s: bad value %r" % (where, s))
    return float(s)


def parse_labels(s, i, where):
    """Parses {a="b",...} from s[i] == '{'; returns (labels, index after '}')."""
    assert s[i] == "{"
    i += 1
    labels = {}
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(s, i)
        if not m:
            raise PromError("%s: bad label name at column %d" % (where, i + 1))
        name = m.group(0)
        if name.startswith("__"):
            raise PromError("%s: reserved label name %s" % (where, name))
        if name in labels:
            raise PromError("%s: label %s twice" % (where, name))
        i = m.end()
        if s[i:i + 2] != '="':
            raise PromError("%s: expected =\" after label %s" % (where, name))
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise PromError("%s: unterminated label value" % where)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt == "\\":
                    val.append("\\")
                elif nxt == '"':
                    val.append('"')
                elif nxt == "n":
                    val.append("\n")
                else:
                    raise PromError("%s: bad escape \\%s in a label value" % (where, nxt))
                i += 2
                continue
            if c == '"':
                i += 1
                break
            if c == "\n":
                raise PromError("%s: raw line feed in a label value" % where)
            val.append(c)
            i += 1
        labels[name] = "".join(val)
        if i < len(s) and s[i] == ",":
            i += 1
            continue
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        raise PromError("%s: expected , or } after a label" % where)


def prom_parse(text):
    if text and not text.endswith("\n"):
        raise PromError("the last line does not end with a line feed")
    families = {}  # name -> {"type", "help"}
    done = set()  # families whose samples are over
    current = None
    series = set()
    samples = []
    for no, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d" % no
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                kind, name = parts[1], parts[2]
                if not METRIC.match(name):
                    raise PromError("%s: bad metric name %r" % (where, name))
                fam = families.setdefault(name, {})
                if kind in fam:
                    raise PromError("%s: second %s for %s" % (where, kind, name))
                if name in done or (current and current != name and name in families
                                    and "samples" in families[name]):
                    raise PromError("%s: %s for %s after its samples" % (where, kind, name))
                if kind == "TYPE":
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise PromError("%s: bad TYPE line" % where)
                    if fam.get("samples"):
                        raise PromError("%s: TYPE after samples of %s" % (where, name))
                    fam["TYPE"] = parts[3]
                else:
                    text_ = parts[3] if len(parts) == 4 else ""
                    if re.search(r"\\[^\\n]", text_.replace("\\\\", "")):
                        raise PromError("%s: bad escape in HELP" % where)
                    fam["HELP"] = text_
                if current and current != name:
                    done.add(current)
                current = name
            continue  # other comments are allowed
        m = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*").match(line)
        if not m:
            raise PromError("%s: a sample must start with a metric name" % where)
        name = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, where)
        if i >= len(line) or line[i] != " ":
            raise PromError("%s: expected one space before the value" % where)
        rest = line[i + 1:].split(" ")
        if not 1 <= len(rest) <= 2 or "" in rest:
            raise PromError("%s: expected a value and an optional timestamp" % where)
        value = parse_value(rest[0], where)
        if len(rest) == 2 and not re.fullmatch(r"-?\d+", rest[1]):
            raise PromError("%s: bad timestamp" % where)
        # Which family: the name, or a summary/histogram's base name.
        fam_name = name
        for suffix in ("_sum", "_count", "_bucket"):
            base = name[:-len(suffix)]
            if name.endswith(suffix) and families.get(base, {}).get("TYPE") in (
                    "summary", "histogram"):
                fam_name = base
        fam = families.get(fam_name)
        if fam is not None:
            if fam_name in done:
                raise PromError("%s: samples of %s are not together" % (where, fam_name))
            t = fam.get("TYPE", "untyped")
            if t == "counter" and (value < 0 or math.isnan(value)):
                raise PromError("%s: counter %s is %r" % (where, name, value))
            if t == "summary" and name == fam_name and "quantile" not in labels:
                raise PromError("%s: a summary sample without quantile" % where)
            fam["samples"] = True
        if current and current != fam_name:
            done.add(current)
        current = fam_name
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            raise PromError("%s: series %s%s twice" % (where, name, labels))
        series.add(key)
        samples.append((name, labels, value))
    return samples


def prom(args):
    text = open(args.file, encoding="utf-8").read()
    try:
        samples = prom_parse(text)
    except PromError as e:
        sys.exit("prometheus format: %s" % e)
    for name, labels, value in samples:
        lab = ",".join('%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"')
                                     .replace("\n", "\\n")) for k, v in sorted(labels.items()))
        v = repr(value) if not value.is_integer() else str(int(value)) if math.isfinite(value) \
            else str(value)
        print("%s{%s} %s" % (name, lab, v))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("receiver")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--ready")
    p = sub.add_parser("prom")
    p.add_argument("file")
    sl = sub.add_parser("slow")
    sl.add_argument("--http-port", type=int, required=True)
    sl.add_argument("--token", required=True)
    sl.add_argument("--esl-port", type=int, required=True)
    sl.add_argument("--password", required=True)
    sl.add_argument("--events", type=int, required=True)
    args = ap.parse_args()
    {"receiver": receiver, "prom": prom, "slow": slow}[args.cmd](args)


if __name__ == "__main__":
    main()
