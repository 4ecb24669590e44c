"""What the live alert tests (promql_live_test.py, fleet_test.py, alertmanager_chain_test.py) share to run the real
exporter and a real Prometheus on 127.0.0.1: free ports, HTTP with a deadline, the processes they start (stopped on
the way out) and Prometheus itself (a config written, started on a free port, waited for until ready, its HTTP API).

Every wait gives up DEADLINE seconds after this module was imported; a test sets its own (live_prometheus.DEADLINE).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request

DEADLINE = 120  # seconds, for the whole test
started = time.monotonic()


def remaining():
    left = DEADLINE - (time.monotonic() - started)
    if left <= 0:
        raise TimeoutError(f"gave up after {DEADLINE} s")
    return left


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=min(timeout, remaining())) as r:
        return r.read().decode()


def wait_http(url, what, proc=None, log=None):
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {open(log).read()[-2000:] if log else ''}")
        try:
            return http_get(url, timeout=2)
        except OSError:
            remaining()
            time.sleep(0.1)


class Processes:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = {}

    def start(self, name, argv):
        log = os.path.join(self.tmp, name + ".log")
        self.procs[name] = (subprocess.Popen(argv, stdout=open(log, "a"), stderr=subprocess.STDOUT,
                                             start_new_session=True), log)
        return self.procs[name]

    def stop(self, name):
        proc, _ = self.procs.pop(name)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)


class Prometheus:
    def __init__(self, port, name="prometheus", proc=None, log=None):
        self.port, self.name, self.proc, self.log = port, name, proc, log
        self.base = f"http://127.0.0.1:{port}"

    def api(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
        reply = json.loads(http_get(url))
        if reply.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {reply}")
        return reply["data"]

    def query(self, expr):
        return self.api("/api/v1/query", query=expr)["result"]

    def check_running(self):
        """Raises, with the tail of its log, if the process has exited."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited: " + open(self.log).read()[-2000:])


def start_prometheus(procs, name, config, flags=(), agent=False, what=None):
    """Debian's Prometheus as process NAME of `procs`: `config` (a dict) written to NAME.yml and its storage in NAME/,
    both in procs.tmp, listening on a free port of 127.0.0.1, with --log.level=warn and `flags`; in agent mode
    (--enable-feature=agent) if `agent`. Returns its Prometheus once /-/ready answers (`what` names it in the error if
    it exits first); procs.stop(NAME) or procs.stop_all() stops it."""
    path = os.path.join(procs.tmp, name + ".yml")
    with open(path, "w") as f:
        json.dump(config, f)  # JSON is YAML
    port = free_port()
    storage = os.path.join(procs.tmp, name)
    mode = ["--enable-feature=agent", f"--storage.agent.path={storage}"] if agent else [
        f"--storage.tsdb.path={storage}"]
    proc, log = procs.start(name, [shutil.which("prometheus") or "/usr/bin/prometheus", *mode, f"--config.file={path}",
                                   f"--web.listen-address=127.0.0.1:{port}", *flags, "--log.level=warn"])
    wait_http(f"http://127.0.0.1:{port}/-/ready", what or name, proc, log)
    return Prometheus(port, name, proc, log)
