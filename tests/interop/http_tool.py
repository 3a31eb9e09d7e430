#!/usr/bin/env python3
"""Helpers of irisx's HTTP interop tests (tests/interop/test_http_*.sh).

  http_tool.py receiver --port P --out FILE [--ready FILE]
      an HTTP server on 127.0.0.1:P receiving status callbacks: each request
      becomes a JSON line in FILE ({method, path, query, type, body, form});
      answers 204.
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
    args = ap.parse_args()
    {"receiver": receiver, "prom": prom}[args.cmd](args)


if __name__ == "__main__":
    main()
