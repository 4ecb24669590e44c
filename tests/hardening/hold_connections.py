#!/usr/bin/env python3
"""Holds slow and idle HTTP connections open against a server, then times one scrape from a
separate client while they are held. Prints one line of figures and exits non-zero when the scrape
fails or takes longer than the allowed time.

Usage: hold_connections.py PORT IDLE SLOW MAX_SECONDS
  IDLE: connections that send nothing; SLOW: connections that send one header line a second and
  never finish their request (slowloris)."""
import socket
import sys
import threading
import time
import urllib.request

port, idle, slow, max_seconds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
held = []
stop = threading.Event()


def dribble(sock):
    try:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n")
        i = 0
        while not stop.wait(1.0):
            sock.sendall(b"X-Slow-%d: x\r\n" % i)
            i += 1
    except OSError:
        pass  # the server closed it: its request timeout at work


for _ in range(idle):
    held.append(socket.create_connection(("127.0.0.1", port)))
for _ in range(slow):
    s = socket.create_connection(("127.0.0.1", port))
    held.append(s)
    threading.Thread(target=dribble, args=(s,), daemon=True).start()
time.sleep(0.5)  # let the server hand them to its workers

start = time.monotonic()
status, error = 0, ""
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=max_seconds + 5) as response:
        status = response.status
        body = response.read()
except Exception as e:  # noqa: BLE001 - any failure is the finding
    error = str(e)
elapsed = time.monotonic() - start
stop.set()
for s in held:
    s.close()
ok = status == 200 and elapsed <= max_seconds
print(f"{idle} idle + {slow} slow connections held: scrape {'HTTP %d' % status if status else error} "
      f"in {elapsed:.2f}s (allowed {max_seconds:.0f}s)")
sys.exit(0 if ok else 1)
