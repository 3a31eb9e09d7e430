#!/usr/bin/env python3
"""The HTTP API bench's client (bench/run_http.sh): one keep-alive connection.

  http_client.py PORT TOKEN calls N ENDPOINT   POST /v1/calls N times (each to
      ENDPOINT), then waits until N calls are answered; prints post_p50_ms,
      post_p99_ms, post_max_ms, calls_created, calls_answered
  http_client.py PORT TOKEN list N              GET /v1/calls N times; prints
      list_p50_ms, list_p99_ms, list_calls (the count in the last answer)
"""
import http.client
import json
import sys
import time


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p / 100))] if s else 0.0


def request(conn, method, path, token, body=None):
    headers = {"Authorization": "Bearer " + token}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, data, (time.perf_counter() - t0) * 1000.0


def main():
    port, token, mode, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    if mode == "calls":
        endpoint = sys.argv[5]
        lat, created = [], 0
        for i in range(n):
            status, data, ms = request(conn, "POST", "/v1/calls", token,
                                       {"endpoint": endpoint, "from": "bench", "timeout": 30})
            if status == 201:
                created += 1
                lat.append(ms)
            else:
                print("POST /v1/calls: %d %s" % (status, data[:200]), file=sys.stderr)
        answered, deadline = 0, time.time() + 60
        while time.time() < deadline:
            status, data, _ = request(conn, "GET", "/v1/calls", token)
            answered = sum(1 for c in json.loads(data)["calls"] if c["answered"])
            if answered >= created:
                break
            time.sleep(0.5)
        print("post_p50_ms=%.3f" % pct(lat, 50))
        print("post_p99_ms=%.3f" % pct(lat, 99))
        print("post_max_ms=%.3f" % max(lat or [0]))
        print("calls_created=%d" % created)
        print("calls_answered=%d" % answered)
    elif mode == "list":
        lat, count = [], 0
        for i in range(n):
            status, data, ms = request(conn, "GET", "/v1/calls", token)
            if status != 200:
                sys.exit("GET /v1/calls: %d" % status)
            lat.append(ms)
            count = json.loads(data)["count"]
        print("list_p50_ms=%.3f" % pct(lat, 50))
        print("list_p99_ms=%.3f" % pct(lat, 99))
        print("list_calls=%d" % count)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
