#!/usr/bin/env python3
"""Can a crowd of bad clients starve the one client that matters? Starts the exporter on fixtures (or uses a running
one), then, from loopback addresses other than the scraper's (127.0.0.2 and up), opens at once: connections that
stay idle, requests sent one byte a second, clients that request /metrics and never read the answer, and TLS
handshakes left half done (a TLS record header and nothing more). Meanwhile it scrapes /metrics every 100 ms from
127.0.0.1 on a new connection each time and reports the latency percentiles and failures before, during and after
the crowd, and the exporter's threads and resident memory, and its resident memory per idle connection. It prints
figures; it asserts nothing (BENCHMARKS.md keeps them; tests/hardening/http_crowd_test.py imports the same crowd,
plain and over TLS, and asserts loose bounds).

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
import ssl
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


def crowd_address(n):
    """The n-th crowd client's address, 127.0.x.y (y >= 2): other addresses than the scraper's, like other hosts,
    about 250 clients per address block so that no address reaches a per-address cap."""
    return f"127.0.{(n // 250) % 250}.{2 + n % 250}"


def crowd_socket(n, port, rcvbuf=None):
    """A connection from crowd_address(n). Not waited for: a server that stops accepting leaves it in the listen
    queue, which is part of what is measured."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((crowd_address(n), 0))
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    return s


def tls_crowd_socket(n, port, tls, rcvbuf=None, timeout=5.0):
    """A connection from crowd_address(n) with its TLS handshake done (so that what follows is read by the server's
    HTTP side, not refused by its TLS side). Raises OSError when the server does not complete the handshake."""
    raw = socket.socket()
    if rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.bind((crowd_address(n), 0))
    raw.settimeout(timeout)
    try:
        raw.connect(("127.0.0.1", port))
        s = tls.wrap_socket(raw, server_hostname="localhost")
    except OSError:
        raw.close()
        raise
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


# What each kind of the crowd sends: the slow ones a byte a second, the ones that never read four pipelined
# scrapes at once (into a small receive buffer), the half TLS handshakes a handshake record's header and no body.
SLOW_REQUEST = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow\r\n\r\n"
NO_READ_REQUESTS = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n" * 4
HALF_TLS = b"\x16\x03\x01\x02\x00"
KINDS = ("idle", "slow", "no-read", "half-tls")


class Crowd:
    """The bad clients, from crowd_address(n): `counts` maps each of KINDS to how many. Against a TLS server (`tls`
    an ssl.SSLContext that trusts its certificate), the slow ones and the ones that never read complete their
    handshake first, so that they reach the HTTP side; the idle ones and the half handshakes stay plain TCP."""

    def __init__(self, port, counts, tls=None):
        self.port, self.counts, self.tls = port, counts, tls
        self.sockets = []  # (kind, socket)
        self.opened = {kind: 0 for kind in KINDS} | {"refused": 0}
        self._stop = threading.Event()
        self._pending = {}

    def open(self, before_kind=None):
        """Opens every connection, kind by kind in the order of KINDS (before_kind(kind) runs before each kind's
        first), then starts the threads that send what each kind sends."""
        n = 0
        for kind in KINDS:
            if before_kind is not None:
                before_kind(kind)
            for _ in range(self.counts.get(kind, 0)):
                try:
                    self.sockets.append((kind, self._open_one(kind, n)))
                    self.opened[kind] += 1
                except OSError:
                    self.opened["refused"] += 1
                n += 1
        threading.Thread(target=send_when_connected, args=(self._pending, self._stop), daemon=True).start()
        threading.Thread(target=self._dribble, daemon=True).start()

    def _open_one(self, kind, n):
        rcvbuf = 4096 if kind == "no-read" else None
        if self.tls is not None and kind in ("slow", "no-read"):
            s = tls_crowd_socket(n, self.port, self.tls, rcvbuf=rcvbuf)
            if kind == "no-read":
                s.sendall(NO_READ_REQUESTS)
            return s
        s = crowd_socket(n, self.port, rcvbuf=rcvbuf)
        if kind == "no-read":
            self._pending[s] = NO_READ_REQUESTS
        elif kind == "half-tls":
            self._pending[s] = HALF_TLS
        return s

    def _dribble(self):
        for i in range(len(SLOW_REQUEST)):
            if self._stop.wait(1.0):
                return
            for kind, s in self.sockets:
                if kind == "slow":
                    try:
                        s.send(SLOW_REQUEST[i:i + 1])
                    except OSError:
                        pass  # not connected yet, or closed by the server

    def close(self):
        """The crowd leaves: every connection closed by the client."""
        self._stop.set()
        for _, s in self.sockets:
            s.close()
        self.sockets = []


def scrape(port, timeout, tls=None, host="127.0.0.1"):
    """One GET /metrics on a new connection (over TLS with `tls`, an ssl.SSLContext): (seconds, answered 200,
    the status line's start or the error's name)."""
    start = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with (tls.wrap_socket(raw, server_hostname="localhost") if tls is not None else raw) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
        ok = data.startswith(b"HTTP/1.1 200")
        return time.monotonic() - start, ok, data[:12].decode(errors="replace")
    except OSError as e:  # ssl.SSLError among them
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

        idle_figures = None

        def before_kind(kind):
            nonlocal idle_figures
            if kind == "slow":  # the idle connections are in: the server's memory for them, alone
                sockets = settle_sockets(exporter.pid)
                idle_figures = process_figures_kib(exporter.pid)[1], sockets

        crowd = Crowd(port, {"idle": args.idle, "slow": args.slow, "no-read": args.no_read,
                             "half-tls": args.half_tls})
        crowd.open(before_kind)
        opened = crowd.opened
        during, peak_threads, peak_rss = [], threads0, rss0
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            during.append(scrape(port, args.timeout))
            threads, rss = process_figures(exporter.pid)
            peak_threads, peak_rss = max(peak_threads, threads), max(peak_rss, rss)
            time.sleep(max(0.0, 0.1 - during[-1][0]))
        crowd.close()
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
