#!/usr/bin/env python3
"""Can a crowd of bad clients starve the one client that matters? Starts the exporter on fixtures (or uses a running
one), then, from loopback addresses other than the scraper's (127.0.0.2 and up), opens at once: connections that
stay idle, requests sent one byte a second, clients that request /metrics and never read the answer, and TLS
handshakes left half done (a TLS record header and nothing more). Meanwhile it scrapes /metrics every 100 ms from
127.0.0.1 on a new connection each time and reports the latency percentiles and failures before, during and after
the crowd, and the exporter's threads and resident memory, and its resident memory per idle connection. It prints
figures; it asserts nothing (BENCHMARKS.md keeps them; the test of the HTTP layer uses the same crowd with a loose
bound).

Any other server can stand in for the exporter (--server-cmd, e.g. the candidates of bench/http_candidates): the
command is split like a shell would split it (no shell runs it, so its pid is the server's), "{port}" in it is
replaced by the port to listen on, and it must answer GET /metrics on 127.0.0.1 with "HTTP/1.1 200".
--plain-scrapes N times N sequential scrapes on new connections with no crowd at all, and stops there.

Usage: bench/http_crowd.py --exporter build/thinpool_exporter [--fixtures tests/fixtures/lvm-healthy]
                           [--idle 2000] [--slow 500] [--no-read 100] [--half-tls 50] [--seconds 20]
       bench/http_crowd.py --server-cmd "/tmp/mhd_candidate /tmp/metrics.txt {port}" [...]
       bench/http_crowd.py --exporter build/thinpool_exporter --plain-scrapes 200
"""
import argparse
import os
import resource
import shlex
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
    """Threads, and resident memory in MiB."""
    threads, rss_kib = process_figures_kib(pid)
    return threads, rss_kib // 1024


def process_figures_kib(pid):
    """Threads, and resident memory in KiB (VmRSS of /proc/PID/status)."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0])


def open_sockets(pid):
    """How many sockets the server holds open (listening ones, connections it accepted, its own socket pairs):
    the connections still in its listen backlog are not among them."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            pass  # closed since listed
    return count


def settle_sockets(pid, limit=3.0):
    """Waits until the server stops taking connections from its backlog (its socket count unchanged for 0.3 s, at
    most `limit` seconds), and returns that count."""
    last, steady_since, give_up = open_sockets(pid), time.monotonic(), time.monotonic() + limit
    while time.monotonic() < give_up and time.monotonic() - steady_since < 0.3:
        time.sleep(0.05)
        count = open_sockets(pid)
        if count != last:
            last, steady_since = count, time.monotonic()
    return last


def summary(name, results, digits=1):
    times = sorted(t for t, ok, _ in results)
    failed = [what for t, ok, what in results if not ok]
    if not times:
        return f"{name}: no scrapes"
    q = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
    ms = [f"{t * 1000:.{digits}f} ms" for t in (q[49], q[89], q[98], times[-1])]
    return (f"{name}: {len(results)} scrapes, {len(failed)} failed {sorted(set(failed))[:3]}; "
            f"latency p50 {ms[0]}, p90 {ms[1]}, p99 {ms[2]}, max {ms[3]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exporter", help="the exporter's binary, started on --fixtures")
    parser.add_argument("--server-cmd", help='any other server instead: a command line with "{port}" in it')
    parser.add_argument("--fixtures", default=str(REPO / "tests/fixtures/lvm-healthy"))
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--no-read", type=int, default=100)
    parser.add_argument("--half-tls", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=10, help="the scraper's timeout per scrape")
    parser.add_argument("--plain-scrapes", type=int, default=0, metavar="N",
                        help="only time N sequential scrapes, each on a new connection, with no crowd")
    args = parser.parse_args()
    if (args.exporter is None) == (args.server_cmd is None):
        parser.error("give either --exporter or --server-cmd")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = free_port()
    if args.server_cmd is not None:
        name = "server"
        command = [part.replace("{port}", str(port)) for part in shlex.split(args.server_cmd)]
    else:
        name = "exporter"
        command = [args.exporter, f"--web.listen-address=127.0.0.1:{port}", f"--devmapper.fixtures={args.fixtures}",
                   "--log.level=warn"]
    exporter = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if scrape(port, 1)[1]:
                break
            if exporter.poll() is not None:
                print(f"{name} exited with status {exporter.returncode}: {shlex.join(command)}", file=sys.stderr)
                return 1
            time.sleep(0.05)
        if args.plain_scrapes > 0:
            plain = [scrape(port, args.timeout) for _ in range(args.plain_scrapes)]
            print(f"{name} pid {exporter.pid} on port {port}; no crowd")
            print(summary("plain, sequential, a new connection each", plain, digits=2))
            return 0
        print(f"{name} pid {exporter.pid} on port {port}; crowd: {args.idle} idle, {args.slow} slow, "
              f"{args.no_read} not reading, {args.half_tls} half TLS handshakes; a scrape every 100 ms")
        before = [scrape(port, args.timeout) for _ in range(20)]
        threads0, rss0 = process_figures(exporter.pid)
        rss0_kib, sockets0 = process_figures_kib(exporter.pid)[1], open_sockets(exporter.pid)

        crowd, stop, pending = [], threading.Event(), {}
        opened = {"idle": 0, "slow": 0, "no-read": 0, "half-tls": 0, "refused": 0}
        n = 0
        idle_figures = None
        for kind, count in (("idle", args.idle), ("slow", args.slow), ("no-read", args.no_read),
                            ("half-tls", args.half_tls)):
            if kind == "slow":  # the idle connections are in: the server's memory for them, alone
                sockets = settle_sockets(exporter.pid)
                idle_figures = process_figures_kib(exporter.pid)[1], sockets
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
        print(f"{name} threads {threads0} before, {peak_threads} at most during, {threads1} after; "
              f"RSS {rss0} MiB before, {peak_rss} MiB at most during, {rss1} MiB after")
        rss_idle_kib, sockets_idle = idle_figures
        grown, accepted = rss_idle_kib - rss0_kib, sockets_idle - sockets0
        per_accepted = f"{grown / accepted:.1f} KiB" if accepted > 0 else "n/a"
        per_opened = f"{grown / opened['idle']:.1f} KiB" if opened["idle"] > 0 else "n/a"
        print(f"RSS per idle connection: {per_accepted} per connection the {name} accepted, {per_opened} per "
              f"connection opened (VmRSS {rss0_kib} KiB before the crowd, {rss_idle_kib} KiB once the "
              f"{opened['idle']} idle connections were open and the {name} had stopped taking them in, before "
              f"the other kinds: +{grown} KiB; it held {accepted} more sockets, the rest waited in its listen "
              f"backlog)")
    finally:
        exporter.terminate()
        try:
            exporter.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop within 10 s of SIGTERM: killed", file=sys.stderr)
            exporter.kill()
            exporter.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
