#!/usr/bin/env python3
"""rtp_peer.py — the caller's media in irisx's interop tests and media bench.

    rtp_peer.py run [options]       an RTP endpoint (RFC 3550 §5.1 fixed header)
    rtp_peer.py analyze REC [opts]  figures from a recording, as key=value lines
    rtp_peer.py tone|speech ...     make test WAV files

`run` binds an even RTP port and the RTCP port above it (RFC 3550 §11) on
loopback, tells its port through --port-file, and sends one G.711 packet every
20 ms (RFC 3551 §4.5.14: PCMU PT 0, PCMA PT 8, 160 samples) — a WAV file, a
tone or silence — to the remote address: the one given, the one a SIPp
scenario wrote to --remote-file after reading the 200's SDP, or else the
source of the first packet received (symmetric RTP, RFC 4961). It records every
packet received (arrival time, sequence, timestamp, marker, payload type,
SSRC, source, payload) and, on SIGTERM or after --duration, writes them to a
JSON file.

`analyze` reads that file: packet rate, inter-arrival gaps (deviation from
20 ms, p50/p99/max), sequence and timestamp continuity, payload types, the
audio level, and the normalized cross-correlation between the decoded audio
and a reference WAV after finding the best alignment. It prints key=value
lines a shell script reads. The tests compare the figures with what irisx
promises; nothing here decides pass or fail except `--expect` checks.

Plain python 3 (numpy is not assumed): the correlation finds the offset on a
10 ms energy envelope first, then refines it on the samples around it, which
keeps the work to a few million multiplications for a prompt of some seconds.
"""

import argparse
import array
import bisect
import json
import math
import operator
import os
import random
import select
import signal
import socket
import struct
import sys
import time
import wave

RATE = 8000
PTIME = 0.020
SAMPLES = 160  # per 20 ms packet at 8 kHz

# ---------------------------------------------------------------------------
# G.711 (ITU-T G.711 tables 1a and 2a, the usual bit manipulations)
# ---------------------------------------------------------------------------


def _ulaw_decode(u):
    u = ~u & 0xFF
    mag = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 7)
    mag -= 0x84
    return -mag if u & 0x80 else mag


def _alaw_decode(a):
    a ^= 0x55
    exp = (a >> 4) & 7
    mant = a & 0x0F
    if exp == 0:
        mag = (mant << 4) + 8
    else:
        mag = ((mant << 4) + 0x108) << (exp - 1)
    return mag if a & 0x80 else -mag


ULAW = [_ulaw_decode(i) for i in range(256)]
ALAW = [_alaw_decode(i) for i in range(256)]
LAWS = {0: ULAW, 8: ALAW}
SILENCE = {0: 0xFF, 8: 0xD5}
_ENCODERS = {}


def g711_decode(payload, pt):
    """Linear samples of a PCMU (pt 0) or PCMA (pt 8) payload."""
    tab = LAWS[pt]
    return [tab[b] for b in payload]


def g711_encoder(pt):
    """A table from sample + 32768 to the nearest code of the law: built from
    the decoder, so that encode then decode is the law's own quantization."""
    enc = _ENCODERS.get(pt)
    if enc is None:
        tab = LAWS[pt]
        pairs = sorted((v, code) for code, v in enumerate(tab))
        vals = [v for v, _ in pairs]
        enc = bytearray(65536)
        for i in range(65536):
            s = i - 32768
            j = bisect.bisect_left(vals, s)
            if j == len(vals) or (j > 0 and s - vals[j - 1] <= vals[j] - s):
                j -= 1
            enc[i] = pairs[j][1]
        enc = bytes(enc)
        _ENCODERS[pt] = enc
    return enc


def g711_encode(samples, pt):
    enc = g711_encoder(pt)
    return bytes(enc[max(-32768, min(32767, int(s))) + 32768] for s in samples)


# ---------------------------------------------------------------------------
# WAV files and resampling
# ---------------------------------------------------------------------------


def wav_read(path):
    """(rate, samples) of a 16-bit PCM WAV (plain or WAVE_FORMAT_EXTENSIBLE,
    which the wave module of older pythons refuses); the first channel if
    there are several."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise ValueError("%s: not a RIFF/WAVE file" % path)
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(blob):
        cid, size = blob[pos:pos + 4], struct.unpack("<I", blob[pos + 4:pos + 8])[0]
        body = blob[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            data = body
            break
        pos += 8 + size + (size & 1)
    if fmt is None or data is None or len(fmt) < 16:
        raise ValueError("%s: no fmt or data chunk" % path)
    tag, ch, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == 0xFFFE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]  # the sub-format GUID's first field
    if tag != 1 or bits != 16:
        raise ValueError("%s: format %d with %d-bit samples, expected 16-bit PCM" % (path, tag, bits))
    samples = array.array("h")
    samples.frombytes(data[:len(data) - len(data) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if ch > 1:
        samples = samples[::ch]
    return rate, list(samples)


def wav_write(path, rate, samples):
    data = array.array("h", (max(-32768, min(32767, int(s))) for s in samples))
    if sys.byteorder == "big":
        data.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())


def resample(samples, src, dst, half=16):
    """Band-limited resampling (Hann-windowed sinc, cutoff 0.45 of the lower
    rate). Weights are cached per fractional phase: rational ratios such as
    16000/8000 or 22050/8000 have few phases."""
    if src == dst:
        return list(samples)
    ratio = src / dst
    fc = 0.45 * min(src, dst) / src  # cutoff in cycles per source sample
    width = half * max(1.0, ratio)  # filter half-width in source samples
    n_out = int(len(samples) / ratio)
    cache = {}
    out = []
    n_in = len(samples)
    for n in range(n_out):
        x = n * ratio
        base = int(math.floor(x))
        frac = round(x - base, 6)
        w = cache.get(frac)
        if w is None:
            lo = -int(math.ceil(width)) + 1
            w = []
            for k in range(lo, int(math.ceil(width)) + 1):
                d = k - frac
                if abs(d) >= width:
                    w.append((k, 0.0))
                    continue
                s = 2 * fc if d == 0 else math.sin(2 * math.pi * fc * d) / (math.pi * d)
                w.append((k, s * (0.5 + 0.5 * math.cos(math.pi * d / width))))
            cache[frac] = w
        acc = 0.0
        for k, c in w:
            i = base + k
            if 0 <= i < n_in:
                acc += c * samples[i]
        out.append(acc)
    return out


def wav_read_8k(path):
    rate, s = wav_read(path)
    return resample(s, rate, RATE)


# ---------------------------------------------------------------------------
# Alignment and correlation
# ---------------------------------------------------------------------------


def _dot(a, b):
    return sum(map(operator.mul, a, b))


def _envelope(x, frame):
    return [math.sqrt(_dot(x[i:i + frame], x[i:i + frame]) / frame)
            for i in range(0, len(x) - frame + 1, frame)]


def _ncc_at(x, y, lag, ey, pre):
    """Normalized correlation of y (the reference) with x[lag:lag+len(y)];
    pre is the prefix sum of x*x."""
    seg = x[lag:lag + len(y)]
    ex = pre[lag + len(seg)] - pre[lag]
    if ex <= 0 or ey <= 0:
        return 0.0
    return _dot(seg, y[:len(seg)]) / math.sqrt(ex * ey)


def align(rx, ref, max_lag=None, frame=80):
    """Where ref best matches inside rx: (correlation, lag in samples). The
    correlation is Σxy/√(Σx²Σy²) over the reference's length (scale-free, so
    a prompt played louder or softer still scores 1). rx is zero-padded by a
    tenth of ref so a stream cut a little short still aligns."""
    if not ref or not rx:
        return 0.0, 0
    x = list(rx) + [0] * (len(ref) // 10)
    if len(x) < len(ref):
        x += [0] * (len(ref) - len(x))
    top = len(x) - len(ref)
    if max_lag is not None:
        top = min(top, max_lag)
    # Coarse: normalized correlation of the mean-removed envelopes.
    ex, ey = _envelope(x, frame), _envelope(ref, frame)
    my = sum(ey) / len(ey)
    ey = [v - my for v in ey]
    eyy = _dot(ey, ey)
    cands = []
    for lag in range(0, top // frame + 1):
        seg = ex[lag:lag + len(ey)]
        if len(seg) < len(ey):
            break
        mx = sum(seg) / len(seg)
        seg = [v - mx for v in seg]
        den = math.sqrt(_dot(seg, seg) * eyy)
        cands.append((_dot(seg, ey) / den if den > 0 else 0.0, lag))
    cands.sort(reverse=True)
    picked = []
    for score, lag in cands:
        if all(abs(lag - p) > 2 for p in picked):
            picked.append(lag)
        if len(picked) == 2:
            break
    if not picked:
        picked = [0]
    # Fine: sample lags around each candidate, in steps of 4, then of 1.
    pre = [0]
    for v in x:
        pre.append(pre[-1] + v * v)
    eyr = _dot(ref, ref)
    best = (-2.0, 0)
    for lag_f in picked:
        centre = lag_f * frame
        lo, hi = max(0, centre - 2 * frame), min(top, centre + 2 * frame)
        local = max((_ncc_at(x, ref, lag, eyr, pre), lag) for lag in range(lo, hi + 1, 4))
        lo2, hi2 = max(0, local[1] - 4), min(top, local[1] + 4)
        local = max((_ncc_at(x, ref, lag, eyr, pre), lag) for lag in range(lo2, hi2 + 1))
        best = max(best, local)
    return best


# ---------------------------------------------------------------------------
# Recordings
# ---------------------------------------------------------------------------


def rec_load(path):
    with open(path) as f:
        return json.load(f)


def rec_packets(rec, t_from=None, t_to=None, pts=None, src_port=None):
    """Received RTP packets as dicts, optionally within [t_from, t_to] (wall
    clock seconds) and of given payload types / source port."""
    out = []
    for p in rec["rtp"]:
        t, seq, ts, m, pt, ssrc, host, port, payload = p
        if t_from is not None and t < t_from:
            continue
        if t_to is not None and t > t_to:
            continue
        if pts is not None and pt not in pts:
            continue
        if src_port is not None and port != src_port:
            continue
        out.append({"t": t, "seq": seq, "ts": ts, "m": m, "pt": pt, "ssrc": ssrc,
                    "src": "%s:%d" % (host, port), "payload": bytes.fromhex(payload)})
    return out


def pct(xs, q):
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def audio_of(pkts):
    """Decoded audio of the G.711 packets, each placed at its RTP timestamp
    (a gap stays silent); a timestamp jump of more than a minute, or a new
    SSRC, restarts placement right after what came before."""
    out = []
    base = None
    last_ssrc = None
    end = 0
    for p in pkts:
        if p["pt"] not in LAWS:
            continue
        if base is None or p["ssrc"] != last_ssrc:
            base = (p["ts"] - end) & 0xFFFFFFFF
            last_ssrc = p["ssrc"]
        off = (p["ts"] - base) & 0xFFFFFFFF
        if off < end - 10 * SAMPLES or off > end + 60 * RATE:
            base = (p["ts"] - end) & 0xFFFFFFFF
            off = end
        pcm = g711_decode(p["payload"], p["pt"])
        if off > len(out):
            out.extend([0] * (off - len(out)))
        out[off:off + len(pcm)] = pcm
        end = max(end, off + len(pcm))
    return out


def stream_stats(pkts):
    st = {"packets": len(pkts)}
    if not pkts:
        return st
    t = [p["t"] for p in pkts]
    st["first"] = "%.6f" % t[0]
    st["last"] = "%.6f" % t[-1]
    span = t[-1] - t[0]
    st["span_s"] = "%.3f" % span
    st["rate"] = "%.2f" % ((len(t) - 1) / span if span > 0 else 0.0)
    gaps = [b - a for a, b in zip(t, t[1:])]
    dev = [abs(g - PTIME) * 1e3 for g in gaps]
    st["gap_dev_p50_ms"] = "%.3f" % pct(dev, 0.50)
    st["gap_dev_p99_ms"] = "%.3f" % pct(dev, 0.99)
    st["gap_dev_max_ms"] = "%.3f" % (max(dev) if dev else 0.0)
    st["gap_max_ms"] = "%.3f" % (max(gaps) * 1e3 if gaps else 0.0)
    seq_err = ts_err = 0
    for a, b in zip(pkts, pkts[1:]):
        if a["ssrc"] != b["ssrc"]:
            continue
        ds = (b["seq"] - a["seq"]) & 0xFFFF
        if ds != 1:
            seq_err += 1
        elif a["pt"] in LAWS and b["pt"] == a["pt"] and not b["m"]:
            if (b["ts"] - a["ts"]) & 0xFFFFFFFF != len(a["payload"]):
                ts_err += 1
    st["seq_errors"] = seq_err
    st["ts_errors"] = ts_err
    st["pts"] = ",".join(str(x) for x in sorted({p["pt"] for p in pkts}))
    st["ssrcs"] = len({p["ssrc"] for p in pkts})
    st["sources"] = ",".join(sorted({p["src"] for p in pkts}))
    st["sizes"] = ",".join(str(x) for x in sorted({len(p["payload"]) for p in pkts}))
    pcm = audio_of(pkts)
    if pcm:
        e = _dot(pcm, pcm) / len(pcm)
        st["rms_dbfs"] = "%.1f" % (10 * math.log10(e / 32768.0 ** 2) if e > 0 else -120.0)
        st["audio_s"] = "%.3f" % (len(pcm) / RATE)
    return st


# ---------------------------------------------------------------------------
# The endpoint
# ---------------------------------------------------------------------------


# Linux's SO_TIMESTAMPNS (asm-generic/socket.h): the kernel stamps each
# datagram with CLOCK_REALTIME on arrival, so the gaps we measure are irisx's
# and the network's, not this process's scheduling on a loaded host.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_CMSG_TS = socket.CMSG_SPACE(16)


def _recv_stamped(s):
    """(data, addr, arrival wall-clock time) of one datagram."""
    data, anc, _, addr = s.recvmsg(4096, _CMSG_TS)
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
            sec, nsec = struct.unpack("qq", payload[:16])
            return data, addr, sec + nsec / 1e9
    return data, addr, time.time()


def _bind_pair(ip, port):
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    socks = []
    try:
        for p in (port, port + 1):
            s = socket.socket(fam, socket.SOCK_DGRAM)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            try:
                s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            except OSError:
                pass
            s.bind((ip, p))
            s.setblocking(False)
    except OSError:
        for s in socks:
            s.close()
        return None
    return socks


def _parse_remote(text):
    text = text.strip()
    if not text:
        return None
    if " " in text:
        host, port = text.split()[:2]
    else:
        host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not port.isdigit() or not host:
        return None
    return host, int(port)


class Source:
    """Payloads to send: a looped WAV, a tone or silence, G.711-encoded."""

    def __init__(self, args):
        self.pt = args.pt
        self.pos = 0
        self.pcm = None
        if args.send_wav:
            self.pcm = [int(v) for v in wav_read_8k(args.send_wav)]
        elif args.send_tone:
            amp = 10 ** (args.level / 20) * 32767
            period = RATE
            self.pcm = [int(amp * math.sin(2 * math.pi * args.send_tone * i / RATE))
                        for i in range(period)]
        self.sent = []

    def next(self):
        if not self.pcm:
            return bytes([SILENCE[self.pt]]) * SAMPLES
        frame = []
        while len(frame) < SAMPLES:
            take = self.pcm[self.pos:self.pos + SAMPLES - len(frame)]
            frame.extend(take)
            self.pos = (self.pos + len(take)) % len(self.pcm)
        return g711_encode(frame, self.pt)


# DTMF (RFC 4733 §3.2 event codes; ITU-T Q.23 frequency pairs)
DTMF_EVENTS = "0123456789*#ABCD"
DTMF_FREQS = {"1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
              "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
              "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
              "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633)}
DTMF_PACKETS = 5   # 100 ms of tone or event per digit
DTMF_GAP = 5       # 100 ms between digits


class Dtmf:
    """Digits to send at given times: as RFC 4733 events (one packet per 20 ms
    with a growing duration, the marker on the first, three end packets as
    §2.5.1.4 asks) or as tone pairs in the audio (-7 dBFS each, Q.24 levels)."""

    def __init__(self, specs, mode, pt):
        self.mode, self.pt = mode, pt
        self.plan = []  # (packet index, digit)
        for spec in specs or []:
            at, _, digits = spec.partition(":")
            k = int(round(float(at) / PTIME))
            for d in digits.upper():
                if d not in DTMF_FREQS:
                    sys.exit("rtp_peer: '%s' is not a DTMF digit" % d)
                self.plan.append((k, d))
                k += DTMF_PACKETS + (3 if mode == "rfc4733" else 0) + DTMF_GAP
        self.plan.sort()

    def at(self, k):
        """What packet k carries: None (audio), or (digit, index in the digit)."""
        for start, d in self.plan:
            span = DTMF_PACKETS + (3 if self.mode == "rfc4733" else 0)
            if start <= k < start + span:
                return d, k - start
        return None

    def tone(self, d, i, g711pt):
        lo, hi = DTMF_FREQS[d]
        amp = 10 ** (-7 / 20) * 32767
        n0 = i * SAMPLES
        pcm = [int(amp * (math.sin(2 * math.pi * lo * (n0 + n) / RATE) +
                          math.sin(2 * math.pi * hi * (n0 + n) / RATE)) / 2 * 1.4)
               for n in range(SAMPLES)]
        return g711_encode(pcm, g711pt)

    def event(self, d, i):
        end = i >= DTMF_PACKETS - 1
        dur = min(i + 1, DTMF_PACKETS) * SAMPLES
        return struct.pack("!BBH", DTMF_EVENTS.index(d), (0x80 if end else 0) | 10, dur)


def cmd_run(args):
    ip = args.ip
    socks = None
    if args.port:
        socks = _bind_pair(ip, args.port)
    else:
        rng = random.SystemRandom()
        for _ in range(500):
            p = rng.randrange(args.port_min // 2, args.port_max // 2) * 2
            socks = _bind_pair(ip, p)
            if socks:
                break
    if not socks:
        sys.exit("rtp_peer: cannot bind an RTP/RTCP port pair on %s" % ip)
    rtp, rtcp = socks
    port = rtp.getsockname()[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    remote = _parse_remote(args.remote) if args.remote else None
    source = Source(args) if not args.no_send else None
    dtmf = Dtmf(args.dtmf, args.dtmf_mode, args.dtmf_pt) if args.dtmf else None
    event_ts = 0
    ssrc = random.getrandbits(32)
    seq = random.getrandbits(16)
    ts = random.getrandbits(32)
    mono0, wall0 = time.monotonic(), time.time()
    deadline = mono0 + args.duration
    next_send = None
    send_until = None
    sent = 0
    first_sent = last_sent = None
    rx, rtcp_rx = [], []

    def wall(m):
        return wall0 + (m - mono0)

    while not stop:
        now = time.monotonic()
        if now >= deadline:
            break
        if remote is None and args.remote_file and os.path.exists(args.remote_file):
            try:
                with open(args.remote_file) as f:
                    remote = _parse_remote(f.read())
            except OSError:
                pass
        if source and remote and next_send is None:
            next_send = now + args.send_delay
            send_until = next_send + args.send_for if args.send_for is not None else None
        if next_send is not None and (send_until is None or now < send_until):
            while now >= next_send:
                what = dtmf.at(sent) if dtmf else None
                payload = source.next()
                pt, marker, pts = args.pt, sent == 0, ts
                if what and dtmf.mode == "rfc4733":
                    d, i = what
                    if i == 0:
                        event_ts = ts
                    pt, marker, pts = args.dtmf_pt, i == 0, event_ts
                    payload = dtmf.event(d, i)
                elif what:
                    payload = dtmf.tone(what[0], what[1], args.pt)
                hdr = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt,
                                  seq, pts, ssrc)
                try:
                    rtp.sendto(hdr + payload, remote)
                except OSError:
                    pass
                sent += 1
                first_sent = first_sent or wall(now)
                last_sent = wall(now)
                seq = (seq + 1) & 0xFFFF
                ts = (ts + SAMPLES) & 0xFFFFFFFF
                next_send += PTIME
                if now - next_send > 0.2:  # stalled: do not burst to catch up
                    next_send = now + PTIME
            wait = max(0.0, min(next_send, deadline) - now)
        else:
            wait = max(0.0, min(0.02, deadline - now))
        try:
            ready, _, _ = select.select([rtp, rtcp], [], [], wait)
        except InterruptedError:
            continue
        for s in ready:
            while True:
                try:
                    data, addr, t = _recv_stamped(s)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                if s is rtcp:
                    rtcp_rx.append([round(t, 6), addr[0], addr[1], data[1] if len(data) > 1 else -1,
                                    len(data)])
                    continue
                if len(data) < 12 or data[0] >> 6 != 2:
                    continue
                cc = data[0] & 0x0F
                off = 12 + 4 * cc
                if data[0] & 0x10 and len(data) >= off + 4:  # header extension
                    off += 4 + 4 * struct.unpack("!H", data[off + 2:off + 4])[0]
                end = len(data)
                if data[0] & 0x20 and end > off:  # padding
                    end -= data[-1]
                _, b1, pseq, pts, pssrc = struct.unpack("!BBHII", data[:12])
                rx.append([round(t, 6), pseq, pts, b1 >> 7, b1 & 0x7F, pssrc, addr[0], addr[1],
                           data[off:end].hex()])
                if remote is None and not args.remote_file:
                    remote = (addr[0], addr[1])
                elif remote is None and args.latch:
                    remote = (addr[0], addr[1])

    rec = {"local": [ip, port], "remote": list(remote) if remote else None, "pt": args.pt,
           "sent": sent, "sent_first": first_sent, "sent_last": last_sent, "rtp": rx,
           "rtcp": rtcp_rx, "started": wall0}
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.replace(tmp, args.out)
    for s in socks:
        s.close()


# ---------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------


def cmd_analyze(args):
    rec = rec_load(args.recording)
    pts = {int(x) for x in args.pt.split(",")} if args.pt else None
    pkts = rec_packets(rec, args.t_from, args.t_to, pts, args.src_port)
    rtcp = rec.get("rtcp", [])
    out = {"sent": rec.get("sent", 0), "rtcp_packets": len(rtcp)}
    if rtcp:
        out["rtcp_sources"] = ",".join(sorted({"%s:%d" % (r[1], r[2]) for r in rtcp}))
    if rec.get("sent_first"):
        out["sent_first"] = "%.6f" % rec["sent_first"]
        out["sent_last"] = "%.6f" % rec["sent_last"]
    out.update(stream_stats(pkts))
    if args.ref and pkts:
        pcm = audio_of(pkts)
        ref = wav_read_8k(args.ref)
        if args.ref_from is not None or args.ref_len is not None:
            a = int((args.ref_from or 0) * RATE)
            b = a + int(args.ref_len * RATE) if args.ref_len is not None else len(ref)
            ref = ref[a:b]
        # Leading and trailing silence of the reference says nothing about
        # the match; trim it so the score is about the audible part.
        thr = 0.01 * max((abs(v) for v in ref), default=0)
        i = next((k for k, v in enumerate(ref) if abs(v) > thr), 0)
        j = len(ref) - next((k for k, v in enumerate(reversed(ref)) if abs(v) > thr), 0)
        ref = ref[i:j]
        corr, lag = align(pcm, ref)
        out["corr"] = "%.4f" % corr
        out["ref_s"] = "%.3f" % (len(ref) / RATE)
        # Where the reference's audible part starts in the received audio,
        # as a wall-clock time (the audio starts at the first packet).
        out["ref_at"] = "%.6f" % (pkts[0]["t"] + lag / RATE)
        out["ref_offset_s"] = "%.3f" % (lag / RATE)
    if args.save_wav and pkts:
        wav_write(args.save_wav, RATE, audio_of(pkts))
    fails = []
    for e in args.expect or []:
        key, op, val = _split_expect(e)
        have = out.get(key)
        if have is None or not _compare(have, op, val):
            fails.append("%s (have %s)" % (e, have))
    for k, v in out.items():
        print("%s=%s" % (k, v))
    for f in fails:
        print("expect_failed=%s" % f)
    return 1 if fails else 0


def _split_expect(e):
    for op in (">=", "<=", "==", "!=", ">", "<"):
        if op in e:
            k, v = e.split(op, 1)
            return k.strip(), op, v.strip()
    raise SystemExit("bad --expect %r" % e)


def _compare(have, op, val):
    try:
        a, b = float(have), float(val)
    except ValueError:
        a, b = str(have), val
    return {">=": a >= b, "<=": a <= b, "==": a == b, "!=": a != b, ">": a > b, "<": a < b}[op]


def cmd_corr(args):
    """Correlation of two WAV files: where the second (reference) best
    matches inside the first, e.g. a user agent's recording of what it
    received against what it sent. With --pieces N the reference window is
    cut in N pieces aligned one by one: an echo path that drops or repeats a
    frame now and then shifts the pieces after it, which one alignment of
    the whole window would count as a mismatch."""
    rate_a, a = wav_read(args.received)
    rate_b, b = wav_read(args.reference)
    a = resample(a, rate_a, RATE)
    b = resample(b, rate_b, RATE)
    if args.ref_from is not None or args.ref_len is not None:
        i = int((args.ref_from or 0) * RATE)
        j = i + int(args.ref_len * RATE) if args.ref_len is not None else len(b)
        b = b[i:j]
    e = _dot(a, a) / len(a) if a else 0
    n = max(1, args.pieces)
    step = len(b) // n
    scores, lags = [], []
    for k in range(n):
        piece = b[k * step:(k + 1) * step] if n > 1 else b
        c, lag = align(a, piece)
        scores.append(c)
        lags.append(lag - k * step)
    print("corr=%.4f" % (sorted(scores)[len(scores) // 2] if n > 1 else scores[0]))
    print("corr_min=%.4f" % min(scores))
    print("offset_s=%.3f" % (lags[0] / RATE))
    print("offset_spread_s=%.3f" % ((max(lags) - min(lags)) / RATE))
    print("received_s=%.3f" % (len(a) / RATE))
    print("received_rms_dbfs=%.1f" % (10 * math.log10(e / 32768.0 ** 2) if e > 0 else -120.0))
    print("reference_s=%.3f" % (len(b) / RATE))
    return 0


def cmd_info(args):
    rate, s = wav_read(args.wav)
    print("rate=%d" % rate)
    print("seconds=%.3f" % (len(s) / rate))
    return 0


def cmd_tone(args):
    amp = 10 ** (args.level / 20) * 32767
    n = int(args.seconds * args.rate)
    wav_write(args.out, args.rate,
              [amp * math.sin(2 * math.pi * args.freq * i / args.rate) for i in range(n)])
    return 0


def cmd_resample(args):
    rate, s = wav_read(args.input)
    out = resample(s, rate, args.rate)
    peak = max((abs(v) for v in out), default=0)
    if args.normalize and peak > 0:
        g = 10 ** (args.normalize / 20) * 32767 / peak
        out = [v * g for v in out]
    wav_write(args.output, args.rate, out)
    return 0


def cmd_g711_wav(args):
    """A G.711 WAV (format 7 µ-law or 6 A-law, 8 kHz mono) of any 16-bit WAV:
    what SIPp's rtp_stream sends as is, 160 bytes a packet."""
    data = g711_encode(wav_read_8k(args.input), args.pt)
    fmt = struct.pack("<HHIIHHH", 7 if args.pt == 0 else 6, 1, RATE, RATE, 1, 8, 0)
    fact = struct.pack("<I", len(data))
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" +
            struct.pack("<I", 4) + fact + b"data" + struct.pack("<I", len(data)) + data)
    if len(data) % 2:
        body += b"\0"
    with open(args.output, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="be the caller's RTP endpoint")
    r.add_argument("--ip", default="127.0.0.1")
    r.add_argument("--port", type=int, default=0, help="even RTP port (default: a free one)")
    r.add_argument("--port-min", type=int, default=20000)
    r.add_argument("--port-max", type=int, default=32000)
    r.add_argument("--port-file", help="write the RTP port here once bound")
    r.add_argument("--remote", help="send to IP:PORT")
    r.add_argument("--remote-file", help="send to the 'IP PORT' this file will hold")
    r.add_argument("--latch", action="store_true",
                   help="with --remote-file, also take the first packet's source if first")
    r.add_argument("--pt", type=int, default=0, choices=(0, 8))
    r.add_argument("--send-wav", help="send this WAV, looped")
    r.add_argument("--send-tone", type=float, help="send a tone of this frequency")
    r.add_argument("--level", type=float, default=-12.0, help="tone level, dBFS")
    r.add_argument("--no-send", action="store_true", help="only receive")
    r.add_argument("--send-delay", type=float, default=0.0,
                   help="start sending this many seconds after the remote is known")
    r.add_argument("--send-for", type=float, help="stop sending after this many seconds")
    r.add_argument("--duration", type=float, default=60.0, help="exit after this long")
    r.add_argument("--dtmf", action="append",
                   help="SECONDS:DIGITS — send digits from this many seconds after sending "
                        "starts (100 ms each, 100 ms apart); repeatable")
    r.add_argument("--dtmf-mode", choices=("rfc4733", "inband"), default="rfc4733")
    r.add_argument("--dtmf-pt", type=int, default=101, help="telephone-event payload type")
    r.add_argument("--out", help="write the recording (JSON) here on exit")

    a = sub.add_parser("analyze", help="figures from a recording")
    a.add_argument("recording")
    a.add_argument("--from", dest="t_from", type=float, help="wall-clock start of the window")
    a.add_argument("--to", dest="t_to", type=float, help="wall-clock end of the window")
    a.add_argument("--pt", help="only these payload types (comma-separated)")
    a.add_argument("--src-port", type=int, help="only packets from this source port")
    a.add_argument("--ref", help="correlate the decoded audio with this WAV")
    a.add_argument("--ref-from", type=float, help="use the reference from this second")
    a.add_argument("--ref-len", type=float, help="use this many seconds of the reference")
    a.add_argument("--save-wav", help="write the decoded audio here (8 kHz)")
    a.add_argument("--expect", action="append", help="KEY OP VALUE; exit 1 if false")

    c = sub.add_parser("corr", help="correlate two WAV files")
    c.add_argument("received")
    c.add_argument("reference")
    c.add_argument("--ref-from", type=float)
    c.add_argument("--ref-len", type=float)
    c.add_argument("--pieces", type=int, default=1,
                   help="align this many pieces of the reference one by one (median score)")

    i = sub.add_parser("info", help="a WAV file's rate and duration")
    i.add_argument("wav")

    t = sub.add_parser("tone", help="write a sine WAV")
    t.add_argument("out")
    t.add_argument("--freq", type=float, default=440.0)
    t.add_argument("--seconds", type=float, default=2.0)
    t.add_argument("--rate", type=int, default=8000)
    t.add_argument("--level", type=float, default=-12.0)

    s = sub.add_parser("resample", help="convert a WAV to another rate (mono 16-bit)")
    s.add_argument("input")
    s.add_argument("output")
    s.add_argument("--rate", type=int, default=8000)
    s.add_argument("--normalize", type=float, help="peak level in dBFS")

    g = sub.add_parser("g711-wav", help="encode a WAV as a G.711 WAV (for SIPp's rtp_stream)")
    g.add_argument("input")
    g.add_argument("output")
    g.add_argument("--pt", type=int, default=0, choices=(0, 8))

    args = ap.parse_args()
    fn = {"run": cmd_run, "analyze": cmd_analyze, "corr": cmd_corr, "info": cmd_info,
          "tone": cmd_tone, "resample": cmd_resample, "g711-wav": cmd_g711_wav}[args.cmd]
    sys.exit(fn(args) or 0)


if __name__ == "__main__":
    main()
