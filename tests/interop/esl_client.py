#!/usr/bin/env python3
"""A minimal Event Socket client for the interop tests (inbound mode).

  esl_client.py api PORT PASSWORD COMMAND...
      runs `api COMMAND` on 127.0.0.1:PORT and prints the reply's body.
  esl_client.py events PORT PASSWORD OUT EVENTS...
      subscribes with `event plain EVENTS` and appends every event to OUT
      (one "Name: value" a line, URL-decoded, a blank line after each) until
      it is killed or the server closes the connection.
"""
import socket
import sys
import urllib.parse


class Conn:
    def __init__(self, port, password):
        self.sock = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        self.buf = b""
        hdrs, _ = self.frame()
        if hdrs.get("Content-Type") != "auth/request":
            sys.exit("no auth/request from the server: %r" % hdrs)
        self.send("auth " + password)
        hdrs, _ = self.frame()
        if not hdrs.get("Reply-Text", "").startswith("+OK"):
            sys.exit("auth refused: %r" % hdrs)

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n\n")

    def _read(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def frame(self):
        while b"\n\n" not in self.buf:
            self._read()
        head, self.buf = self.buf.split(b"\n\n", 1)
        hdrs = {}
        for line in head.decode(errors="replace").split("\n"):
            name, sep, value = line.partition(":")
            if sep:
                hdrs[name.strip()] = value.strip()
        body = b""
        n = int(hdrs.get("Content-Length", "0") or 0)
        while len(self.buf) < n:
            self._read()
        body, self.buf = self.buf[:n], self.buf[n:]
        return hdrs, body.decode(errors="replace")


def main():
    cmd, port, password = sys.argv[1:4]
    conn = Conn(port, password)
    if cmd == "api":
        conn.send("api " + " ".join(sys.argv[4:]))
        while True:
            hdrs, body = conn.frame()
            if hdrs.get("Content-Type") == "api/response":
                sys.stdout.write(body)
                return
    if cmd == "events":
        out = sys.argv[4]
        conn.sock.settimeout(None)
        conn.send("event plain " + " ".join(sys.argv[5:]))
        with open(out, "a") as f:
            try:
                while True:
                    hdrs, body = conn.frame()
                    if hdrs.get("Content-Type") != "text/event-plain":
                        continue
                    for line in body.split("\n"):
                        name, sep, value = line.partition(":")
                        if sep:
                            f.write("%s: %s\n" % (name, urllib.parse.unquote(value.strip())))
                    f.write("\n")
                    f.flush()
            except (EOFError, OSError):
                return
    sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
