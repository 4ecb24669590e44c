#!/usr/bin/env python3
"""No client can starve the scraper, and no bad request disturbs another client: the real binary on the
lvm-healthy fixtures, plain and over TLS (a self-signed certificate made with openssl).

1. The crowd of bench/http_crowd.py arrives, all at once, from 127.0.x.y (y >= 2): 2,000 idle connections, 500
   requests sent a byte a second, 100 clients that send four scrapes and never read, 50 TLS handshakes left half
   done; over TLS the slow ones and the ones that never read complete their handshake first. Meanwhile a scrape
   every 100 ms from 127.0.0.1 on a new connection must answer 200 within SCRAPE_BOUND (loose: a busy 2-core CI
   machine), the exporter's threads stay within --web.max-requests and a few, its RSS within what the connection
   cap allows (rss_bound(): a TLS connection that has begun its handshake holds OpenSSL's and asio's buffers), the
   scrapes answer again once the crowd leaves, and thinpool_http_connections_evicted_total and
   thinpool_http_connections_timed_out_total count what was closed (--web.request-timeout is short here, so that
   the crowd times out while it is measured).
2. Malformed, oversized, cut-off and unfinished requests, all at once, each get a clear 4xx (over TLS too: garbage
   after the handshake is a 400), while a scrape every 50 ms and a keep-alive connection opened before them go on
   unharmed; one client address over --web.max-connections-per-ip only has its own connections closed.

It prints the scrape latency percentiles, threads and RSS; the benchmark figures come from bench/http_crowd.py.
Usage: http_crowd_test.py EXPORTER FIXTURES_DIR
"""
import concurrent.futures
import re
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import http_crowd  # noqa: E402  (the crowd and the scrape, shared with the benchmark)

MAX_REQUESTS = 40  # --web.max-requests, the default
REQUEST_TIMEOUT_MS = 6000  # shorter than the crowd stays, so that it times out while measured
BAD_REQUEST_TIMEOUT_MS = 2000  # when the request never finished gets its 408
PER_IP = 32  # --web.max-connections-per-ip where bad requests are sent
CROWD = {"idle": 2000, "slow": 500, "no-read": 100, "half-tls": 50}
CROWD_SECONDS = 10
SCRAPE_BOUND = 1.0  # seconds
# Main and the event thread, and a thread per read that can be in flight at once (any number of concurrent scrapes
# share it): the status of each of the fixture's 3 pools, the metadata on each of its 2 volume groups' PVs, the label
# scan's one read at a time. A thread whose read returned takes the next read: none is started while the CPU keeps it
# waiting.
FIXTURE_POOLS, FIXTURE_VGS = 3, 2
THREAD_SLACK = 2 + FIXTURE_POOLS + FIXTURE_VGS + 1
MAX_CONNECTIONS = 1024  # the default --web.max-connections


def rss_bound(mode):
    """MiB: the exporter on the fixture, plus what each connection the cap lets in may hold (measured: about 7 KiB
    plain, about 90 KiB once a TLS handshake has begun); without the cap the crowd's 2,650 connections would take
    twice as much over TLS."""
    per_connection_kib = 100 if mode == "TLS" else 16
    return 24 + MAX_CONNECTIONS * per_connection_kib // 1024
failures = []


def check(ok, what):
    print(f"{'ok' if ok else 'FAIL'}: {what}", flush=True)
    if not ok:
        failures.append(what)


class Exporter:
    """The binary on 127.0.0.1 port 0, its log in `directory`; the port read from its "listening on" line."""

    def __init__(self, binary, directory, name, *flags):
        self.log = Path(directory) / f"{name}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen([binary, "--web.listen-address=127.0.0.1:0", *flags],
                                            stdout=subprocess.DEVNULL, stderr=log)
        self.pid, self.port = self.process.pid, None
        for _ in range(200):
            match = re.search(r"listening on .* \(port (\d+)\)", self.log.read_text())
            if match:
                self.port = int(match.group(1))
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the exporter did not start: {self.log.read_text()}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            failures.append(f"{self.log.name}: the exporter did not stop within 10 s of SIGTERM")


def make_tls(directory):
    """A self-signed certificate for localhost, the web config that serves it, and a client context that trusts
    it."""
    d = Path(directory)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", d / "server.key", "-out", d / "server.crt", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    (d / "web.yml").write_text(f"tls_server_config:\n  cert_file: {d / 'server.crt'}\n"
                               f"  key_file: {d / 'server.key'}\n")
    context = ssl.create_default_context(cafile=str(d / "server.crt"))
    return d / "web.yml", context


def samples(port, tls, family):
    """The samples of one family in a scrape: {labels text: value}."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with (tls.wrap_socket(raw, server_hostname="localhost") if tls else raw) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    found = {}
    for line in data.decode(errors="replace").splitlines():
        match = re.fullmatch(rf"{family}(\{{.*\}})? (\S+)", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


def scrape_through(exporter, tls, seconds, interval, peak=None, started=None):
    """Scrapes every `interval` for `seconds`; with `peak` (a dict), keeps the exporter's most threads and RSS; with
    `started` (a list), the time each scrape started."""
    results, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        if started is not None:
            started.append(time.monotonic())
        results.append(http_crowd.scrape(exporter.port, 5, tls))
        if peak is not None:
            threads, rss = http_crowd.process_figures(exporter.pid)
            peak["threads"], peak["rss"] = max(peak["threads"], threads), max(peak["rss"], rss)
        time.sleep(max(0.0, interval - results[-1][0]))
    return results


def check_scrapes(name, results):
    late = [f"{t:.2f}s {what}" for t, ok, what in results if not ok or t > SCRAPE_BOUND]
    check(results and not late, f"{name}: every one of {len(results)} scrapes answered 200 within "
          f"{SCRAPE_BOUND:.0f} s (not: {late[:5]})")


def crowd_run(exporter, tls, mode):
    print(f"== {mode}: the crowd {CROWD} for {CROWD_SECONDS} s, a scrape every 100 ms", flush=True)
    before = [http_crowd.scrape(exporter.port, 5, tls) for _ in range(10)]
    threads0, rss0 = http_crowd.process_figures(exporter.pid)
    peak = {"threads": threads0, "rss": rss0}
    crowd = http_crowd.Crowd(exporter.port, CROWD, tls)
    arrived = []

    def arrive():
        crowd.open()
        arrived.append(time.monotonic())

    opener = threading.Thread(target=arrive, daemon=True)
    opener.start()  # the crowd arrives while the scrapes go on
    started = []
    during = scrape_through(exporter, tls, CROWD_SECONDS, 0.1, peak, started)
    opener.join()
    # While the 100 clients that never read send their 400 scrapes at once, a scrape may find every one of the
    # --web.max-requests workers busy with theirs and get the 503 that the flag promises: allowed in the second
    # after the crowd arrived, counted, and no later.
    burst_end = arrived[0] + 1.0
    busy = [i for i, (t, ok, what) in enumerate(during) if what.startswith("HTTP/1.1 503") and started[i] < burst_end]
    print(f"   {len(busy)} scrapes answered 503 while the crowd's own scrapes arrived", flush=True)
    during = [result for i, result in enumerate(during) if i not in busy]
    crowd.close()
    open_after = None
    for _ in range(50):  # the exporter notices the closed connections
        open_after = samples(exporter.port, tls, "thinpool_http_connections").get("")
        if open_after is not None and open_after <= 2:
            break
        time.sleep(0.1)
    after = [http_crowd.scrape(exporter.port, 5, tls) for _ in range(10)]
    threads1, rss1 = http_crowd.process_figures(exporter.pid)
    print(f"   opened: {crowd.opened}")
    for name, results in (("before", before), ("during", during), ("after", after)):
        print("   " + http_crowd.summary(name, results))
    print(f"   threads {threads0} before, {peak['threads']} at most during, {threads1} after; RSS {rss0} MiB "
          f"before, {peak['rss']} MiB at most during, {rss1} MiB after", flush=True)
    evicted = samples(exporter.port, tls, "thinpool_http_connections_evicted_total")
    timed_out = samples(exporter.port, tls, "thinpool_http_connections_timed_out_total")
    responses = samples(exporter.port, tls, "thinpool_http_responses_total")
    print(f"   evicted {evicted}; timed out {timed_out}; responses {responses}")

    check_scrapes(f"{mode}, before the crowd", before)
    check_scrapes(f"{mode}, during the crowd", during)
    check_scrapes(f"{mode}, after the crowd", after)
    check(peak["threads"] <= MAX_REQUESTS + THREAD_SLACK,
          f"{mode}: at most {peak['threads']} threads (bound: --web.max-requests {MAX_REQUESTS} + {THREAD_SLACK})")
    check(peak["rss"] < rss_bound(mode), f"{mode}: RSS at most {peak['rss']} MiB (bound: {rss_bound(mode)} MiB)")
    check(open_after is not None and open_after <= 2,
          f"{mode}: thinpool_http_connections back to {open_after} once the crowd left")
    check(evicted.get('{reason="limit"}', 0) > 0,
          f"{mode}: thinpool_http_connections_evicted_total{{reason=\"limit\"}} counted the crowd")
    # No "response": the fixture's body fits in the socket buffers of a client that never reads.
    phases = ["idle", "request"] + (["tls_handshake"] if tls else [])
    missing = [phase for phase in phases if timed_out.get(f'{{phase="{phase}"}}', 0) <= 0]
    check(not missing, f"{mode}: thinpool_http_connections_timed_out_total has phases {phases} (missing: {missing})")
    grep_errors(exporter)


def grep_errors(exporter):
    errors = [line for line in exporter.log.read_text().splitlines() if "level=error" in line]
    check(not errors, f"{exporter.log.name}: no error logged (got: {errors[:3]})")


def exchange(port, payload, tls=None, cut_off=False, timeout=10):
    """Sends `payload` on a new connection (after the TLS handshake with `tls`; with `cut_off`, then closes the
    sending side) and returns the response's status line, or "closed" when none came."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with (tls.wrap_socket(raw, server_hostname="localhost") if tls else raw) as s:
            s.sendall(payload)
            if cut_off:
                s.shutdown(socket.SHUT_WR)
            data = b""
            try:
                while len(data) < 4096 and (chunk := s.recv(4096)):
                    data += chunk
            except OSError:
                pass  # reset after the response: what came is what counts
    return data.split(b"\r\n", 1)[0].decode(errors="replace") if data else "closed"


REQUEST = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n"
BAD_REQUESTS = [  # name, bytes, cut off after them, the status line's start (over plain HTTP)
    ("binary garbage", b"\x00\x01\x02\xff hello\r\n\r\n", False, "HTTP/1.1 400"),
    ("a method with a bad character", b"G(T /metrics HTTP/1.1\r\nHost: x\r\n\r\n", False, "HTTP/1.1 400"),
    ("a header line without a colon", REQUEST + b"X-No-Colon\r\n\r\n", False, "HTTP/1.1 400"),
    ("a Content-Length that is no number", REQUEST + b"Content-Length: 12abc\r\n\r\n", False, "HTTP/1.1 400"),
    ("a chunk size that is no number", b"POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"zz\r\n", False, "HTTP/1.1 400"),
    ("a request line of 20 KiB", b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n", False, "HTTP/1.1 431"),
    ("a header of 20 KiB", REQUEST + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n", False, "HTTP/1.1 431"),
    ("a body of 100 kB announced", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
     + b"x" * 1000, False, "HTTP/1.1 413"),
    ("a request cut off in its headers", REQUEST + b"X-Cut: of", True, "HTTP/1.1 400"),
    ("a request never finished", REQUEST + b"X-Unfinished: 1\r\n", False, "HTTP/1.1 408"),
    ("POST", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", False, "HTTP/1.1 405"),
    ("an unknown path", b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", False, "HTTP/1.1 404"),
]
# Over TLS a request cut off by the TCP connection's end is a truncated TLS stream, closed without an answer.
TLS_BAD_REQUESTS = [case for case in BAD_REQUESTS if not case[2]]


def keep_alive_request(s):
    """A scrape on the open connection `s`: its status line (the body is read by its Content-Length)."""
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data and (chunk := s.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length and (chunk := s.recv(65536)):
        body += chunk
    return head.split(b"\r\n", 1)[0].decode()


def bad_requests_run(exporter, tls, mode):
    print(f"== {mode}: malformed, oversized, cut-off and unfinished requests, all at once", flush=True)
    with socket.create_connection(("127.0.0.1", exporter.port), timeout=10) as raw:
        with (tls.wrap_socket(raw, server_hostname="localhost") if tls else raw) as keep_alive:
            first = keep_alive_request(keep_alive)
            cases = TLS_BAD_REQUESTS if tls else BAD_REQUESTS
            with concurrent.futures.ThreadPoolExecutor(len(cases) + 1) as pool:
                scrapes = pool.submit(scrape_through, exporter, tls, BAD_REQUEST_TIMEOUT_MS / 1000 + 1, 0.05)
                answers = [pool.submit(exchange, exporter.port, payload, tls, cut_off)
                           for _, payload, cut_off, _ in cases]
                time.sleep(0.5)  # the quick cases are answered; the unfinished one waits for its deadline
                second = keep_alive_request(keep_alive)
                for (name, _, _, want), answer in zip(cases, answers):
                    got = answer.result()
                    check(got.startswith(want), f"{mode}, {name}: {got}")
                check_scrapes(f"{mode}, scrapes meanwhile", scrapes.result())
    check(first.startswith("HTTP/1.1 200") and second.startswith("HTTP/1.1 200"),
          f"{mode}: a keep-alive connection opened before them answered {first!r}, and {second!r} while they ran")
    responses = samples(exporter.port, tls, "thinpool_http_responses_total")
    wanted = {}
    for _, _, _, want in cases:
        code = want.split()[1]
        wanted[code] = wanted.get(code, 0) + 1
    short = {code: n for code, n in wanted.items() if responses.get(f'{{code="{code}"}}', 0) < n}
    check(not short, f"{mode}: thinpool_http_responses_total counted the 4xx answers {wanted} (got {responses})")
    if tls:
        got = exchange(exporter.port, REQUEST + b"\r\n")
        check(got == "closed", f"{mode}, plain HTTP to the TLS port: {got}")
        check_scrapes(f"{mode}, a scrape after it", [http_crowd.scrape(exporter.port, 5, tls)])


def per_address_run(exporter, tls, mode, per_ip):
    print(f"== {mode}: {per_ip + 20} idle connections from one address (--web.max-connections-per-ip {per_ip})")
    held = [http_crowd.crowd_socket(7, exporter.port) for _ in range(per_ip + 20)]
    time.sleep(1.0)
    check_scrapes(f"{mode}, a scrape from another address meanwhile", [http_crowd.scrape(exporter.port, 5, tls)])
    evicted = samples(exporter.port, tls, "thinpool_http_connections_evicted_total")
    check(evicted.get('{reason="per_ip_limit"}', 0) >= 20,
          f"{mode}: the 20 oldest of that address closed: evicted {evicted}")
    for s in held:
        s.close()


def main():
    binary, fixtures = sys.argv[1], Path(sys.argv[2]) / "lvm-healthy"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = sum(CROWD.values()) + 500
    if hard < wanted:
        print(f"FAIL: the hard limit of open files is {hard}; the crowd needs {wanted}")
        return 1
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as work:
        web_yml, tls = make_tls(work)
        for mode, context, web_flags in (("plain", None, []), ("TLS", tls, [f"--web.config.file={web_yml}"])):
            common = [f"--devmapper.fixtures={fixtures}", *web_flags]
            exporter = Exporter(binary, work, f"crowd-{mode}", *common, f"--web.request-timeout={REQUEST_TIMEOUT_MS}")
            try:
                crowd_run(exporter, context, mode)
            finally:
                exporter.stop()
            exporter = Exporter(binary, work, f"bad-{mode}", *common, f"--web.request-timeout={BAD_REQUEST_TIMEOUT_MS}",
                                f"--web.max-connections-per-ip={PER_IP}")
            try:
                bad_requests_run(exporter, context, mode)
                per_address_run(exporter, context, mode, PER_IP)
                grep_errors(exporter)
            finally:
                exporter.stop()
    print(f"{len(failures)} failed in {time.monotonic() - start:.0f} s")
    if failures:
        for failure in failures:
            print(f"FAIL: {failure}")
        return 1
    print("PASS: the crowd does not starve the scraper, bad requests get a clear 4xx and disturb no one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
