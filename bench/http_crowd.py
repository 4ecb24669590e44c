#!/usr/bin/env python3
"""Can a crowd of bad clients starve the one client that matters? Starts the exporter on fixtures (or uses a running
one), then, from loopback addresses other than the scraper's (127.0.0.2 and up), opens at once: connections that
stay idle, requests sent one byte a second, clients that request /metrics and never read the answer, and TLS
handshakes left half done (a TLS record header and nothing more). Meanwhile it scrapes /metrics every 100 ms from
127.0.0.1 on a new connection each time and reports the latency percentiles and failures before, during and after
the crowd, and the exporter's threads and resident memory. It prints figures; it asserts nothing (BENCHMARKS.md
keeps them; the test of the HTTP layer uses the same crowd with a loose bound).

Usage: bench/http_crowd.py --exporter build/thinpool_exporter [--fixtures tests/fixtures/lvm-healthy]
                           [--idle 2000] [--slow 500] [--no-read 100] [--half-tls 50] [--seconds 20]
"""
import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crowd_socket(n, port, rcvbuf=None):
    """A connection from 127.0.x.y (y >= 2): other addresses than the scraper's, like other hosts. Not waited
    for: a server that stops accepting leaves it in the listen queue, which is part of what is measured."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((f"127.0.{(n // 250) % 250}.{2 + n % 250}", 0))
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    return s


def send_when_connected(pending, stop):
    """Sends each socket's first bytes once its connection is established (non-blocking connects)."""
    while pending and not stop.is_set():
        for s, payload in list(pending.items()):
            try:
                sent = s.send(payload)
                if sent == len(payload):
                    del pending[s]
                else:
                    pending[s] = payload[sent:]
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                del pending[s]
        stop.wait(0.05)


def scrape(port, timeout):
    start = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        ok = data.startswith(b"HTTP/1.1 200")
        return time.monotonic() - start, ok, data[:12].decode(errors="replace")
    except OSError as e:
        return time.monotonic() - start, False, type(e).__name__


def process_figures(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) // 1024


def summary(name, results):
    times = sorted(t for t, ok, _ in results)
    failed = [what for t, ok, what in results if not ok]
    if not times:
        return f"{name}: no scrapes"
    q = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
    return (f"{name}: {len(results)} scrapes, {len(failed)} failed {sorted(set(failed))[:3]}; "
            f"latency p50 {q[49] * 1000:.1f} ms, p90 {q[89] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, "
            f"max {times[-1] * 1000:.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exporter", required=True)
    parser.add_argument("--fixtures", default=str(REPO / "tests/fixtures/lvm-healthy"))
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--no-read", type=int, default=100)
    parser.add_argument("--half-tls", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=10, help="the scraper's timeout per scrape")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = free_port()
    exporter = subprocess.Popen([args.exporter, f"--web.listen-address=127.0.0.1:{port}",
                                 f"--devmapper.fixtures={args.fixtures}", "--log.level=warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if scrape(port, 1)[1]:
                break
            time.sleep(0.05)
        print(f"exporter pid {exporter.pid} on port {port}; crowd: {args.idle} idle, {args.slow} slow, "
              f"{args.no_read} not reading, {args.half_tls} half TLS handshakes; a scrape every 100 ms")
        before = [scrape(port, args.timeout) for _ in range(20)]
        threads0, rss0 = process_figures(exporter.pid)

        crowd, stop, pending = [], threading.Event(), {}
        opened = {"idle": 0, "slow": 0, "no-read": 0, "half-tls": 0, "refused": 0}
        n = 0
        for kind, count in (("idle", args.idle), ("slow", args.slow), ("no-read", args.no_read),
                            ("half-tls", args.half_tls)):
            for _ in range(count):
                try:
                    s = crowd_socket(n, port, rcvbuf=4096 if kind == "no-read" else None)
                    if kind == "no-read":
                        pending[s] = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n" * 4
                    elif kind == "half-tls":
                        pending[s] = b"\x16\x03\x01\x02\x00"  # a handshake record header, no body
                    crowd.append((kind, s))
                    opened[kind] += 1
                except OSError:
                    opened["refused"] += 1
                n += 1
        threading.Thread(target=send_when_connected, args=(pending, stop), daemon=True).start()

        def dribble():
            request = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow\r\n\r\n"
            for i in range(len(request)):
                if stop.wait(1.0):
                    return
                for kind, s in crowd:
                    if kind == "slow":
                        try:
                            s.send(request[i:i + 1])
                        except OSError:
                            pass  # not connected yet, or closed by the server

        slow_thread = threading.Thread(target=dribble, daemon=True)
        slow_thread.start()
        during, peak_threads, peak_rss = [], threads0, rss0
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            during.append(scrape(port, args.timeout))
            threads, rss = process_figures(exporter.pid)
            peak_threads, peak_rss = max(peak_threads, threads), max(peak_rss, rss)
            time.sleep(max(0.0, 0.1 - during[-1][0]))
        stop.set()
        for _, s in crowd:
            s.close()
        time.sleep(0.5)
        after = [scrape(port, args.timeout) for _ in range(20)]
        threads1, rss1 = process_figures(exporter.pid)

        print(f"opened: {opened}")
        print(summary("before", before))
        print(summary("during", during))
        print(summary("after", after))
        print(f"exporter threads {threads0} before, {peak_threads} at most during, {threads1} after; "
              f"RSS {rss0} MiB before, {peak_rss} MiB at most during, {rss1} MiB after")
    finally:
        exporter.terminate()
        exporter.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
