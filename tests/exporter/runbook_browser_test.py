#!/usr/bin/env python3
"""The landing page and /runbook as a browser shows them: headless Chromium against the real binary.

Starts thinpool_exporter on the lvm-healthy fixtures (port 0, read back from its log), then has
Chromium (--headless=new) take a screenshot of / and of /runbook and dump both pages' DOM after
parsing. Checks:
  - every screenshot is a PNG of the window's size with something drawn on it (not one colour);
  - every alert of the shipped rule files (alerts/*.yml) has its section: an element whose id is
    the alert name in lower case, and the fragment of every runbook_url (whatever host it names)
    and of every runbook.md#anchor the rules' text mentions is an id of the page;
  - every href and src of both pages resolves: #anchors to an id of the page, paths on the
    exporter to a 200 (and an anchor of /runbook to one of its ids); nothing leaves the exporter,
    so the pages work on a site without internet access.

Usage: runbook_browser_test.py BINARY REPO_DIR OUT_DIR   (screenshots are kept in OUT_DIR)
"""
import html.parser
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

import yaml

WINDOW = (1280, 1600)
CHROMIUM_TIMEOUT = 45


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


class Page(html.parser.HTMLParser):
    """The ids, and the href/src targets, of an HTML document."""

    def __init__(self, text):
        super().__init__()
        self.ids, self.targets = set(), []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id":
                self.ids.add(value)
            elif name in ("href", "src") and value is not None:
                self.targets.append((tag, name, value))


def start_exporter(binary, fixtures, log_path):
    log = open(log_path, "w")
    proc = subprocess.Popen([binary, "--web.listen-address=127.0.0.1:0", f"--devmapper.fixtures={fixtures}"],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        match = re.search(r"listening on \S+ at \S+ \(port (\d+)\)", open(log_path).read())
        if match:
            return proc, int(match.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    fail(f"the exporter did not start; its log:\n{open(log_path).read()}")


def get(url, method="GET"):
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, "", b""


def chromium(profile, *args):
    """Runs headless Chromium offline with a profile of its own; returns its stdout."""
    argv = [shutil.which("chromium") or "chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
            f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}", *args]
    started = time.monotonic()
    try:
        run = subprocess.run(argv, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT)
    except subprocess.TimeoutExpired:
        fail(f"chromium did not finish in {CHROMIUM_TIMEOUT} s: {' '.join(args)}")
    if run.returncode != 0:
        fail(f"chromium {' '.join(args)} exited {run.returncode}; its stderr:\n{run.stderr[-3000:]}")
    print(f"   chromium {' '.join(args)}: {time.monotonic() - started:.1f} s", flush=True)
    return run.stdout


def check_screenshot(path):
    """A PNG of the window's size whose pixels are not all one colour."""
    if not os.path.exists(path):
        fail(f"no screenshot at {path}")
    data = open(path, "rb").read()
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        fail(f"{path} is not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    if (width, height) != WINDOW:
        fail(f"{path} is {width}x{height}, the window {WINDOW[0]}x{WINDOW[1]}")
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    distinct = len(set(zlib.decompress(idat)))
    if distinct < 32:
        fail(f"{path} looks blank: {distinct} distinct byte values in its pixels")
    print(f"ok: {os.path.basename(path)}: {width}x{height} PNG, {len(data)} bytes, {distinct} distinct byte values")


def shipped_anchors(repo):
    """(alert names in lower case, fragments of the runbook_urls, runbook anchors named in the rules' text)."""
    names, url_fragments, mentioned = set(), set(), set()
    for name in sorted(f for f in os.listdir(os.path.join(repo, "alerts")) if f.endswith(".yml")):
        for group in (yaml.safe_load(open(os.path.join(repo, "alerts", name))) or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                if "alert" not in rule:
                    continue
                annotations = rule.get("annotations") or {}
                names.add(rule["alert"].lower())
                url = annotations.get("runbook_url", "")
                if "#" not in url:
                    fail(f"alerts/{name}: {rule['alert']} has a runbook_url without an anchor: {url!r}")
                url_fragments.add(url.rsplit("#", 1)[1])
                for text in annotations.values():
                    mentioned |= set(re.findall(r"runbook(?:\.md)?#([a-z0-9_-]+)", text))
    return names, url_fragments, mentioned


def main():
    binary, repo, out = (os.path.abspath(arg) for arg in sys.argv[1:4])
    os.makedirs(out, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="runbook-browser-") as tmp:
        proc, port = start_exporter(binary, os.path.join(repo, "tests/fixtures/lvm-healthy"),
                                    os.path.join(tmp, "exporter.log"))
        try:
            base = f"http://127.0.0.1:{port}"
            for method in ("GET", "HEAD"):
                status, content_type, _ = get(f"{base}/runbook", method)
                if status != 200 or content_type != "text/html; charset=utf-8":
                    fail(f"{method} /runbook: {status} {content_type!r}")
            print(f"ok: GET and HEAD /runbook answer 200 text/html; charset=utf-8 (exporter on port {port})")

            shots = {"landing.png": f"{base}/", "runbook.png": f"{base}/runbook"}
            for name, url in shots.items():
                path = os.path.join(out, name)
                if os.path.exists(path):
                    os.remove(path)
                chromium(os.path.join(tmp, "profile"), f"--screenshot={path}", url)
                check_screenshot(path)

            pages = {path: Page(chromium(os.path.join(tmp, "profile"), "--dump-dom", base + path))
                     for path in ("/", "/runbook")}
            runbook_ids = pages["/runbook"].ids
            names, url_fragments, mentioned = shipped_anchors(repo)
            if len(names) < 20:
                fail(f"only {len(names)} alerts found in alerts/*.yml")
            for what, anchors in (("alert", names), ("runbook_url anchor", url_fragments),
                                  ("anchor the rules' text names", mentioned)):
                missing = sorted(anchors - runbook_ids)
                if missing:
                    fail(f"/runbook in Chromium has no id for {len(missing)} {what}(s): {missing}")
                print(f"ok: every {what} ({len(anchors)}) is an id of /runbook in Chromium's DOM")

            answered = {}
            for path, page in pages.items():
                if not page.targets:
                    fail(f"{path} has no links")
                for tag, attribute, target in page.targets:
                    url = urllib.parse.urljoin(base + path, target)
                    parts = urllib.parse.urlsplit(url)
                    if parts.scheme != "http" or parts.netloc != f"127.0.0.1:{port}":
                        fail(f"{path}: <{tag} {attribute}=\"{target}\"> leaves the exporter")
                    if parts.path not in answered:
                        answered[parts.path] = get(urllib.parse.urlunsplit(parts._replace(fragment="")))[0]
                    if answered[parts.path] != 200:
                        fail(f"{path}: <{tag} {attribute}=\"{target}\">: {parts.path} answers {answered[parts.path]}")
                    if parts.fragment:
                        ids = pages[parts.path].ids if parts.path in pages else None
                        if ids is None or parts.fragment not in ids:
                            fail(f"{path}: <{tag} {attribute}=\"{target}\">: no id {parts.fragment!r} there")
                print(f"ok: {path}: all {len(page.targets)} href/src resolve on the exporter")
            if not any(target == "/runbook" for _, _, target in pages["/"].targets):
                fail("the landing page does not link /runbook")
            print("ok: the landing page links /runbook")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"ok: pages checked in Chromium in {time.monotonic() - started:.1f} s; screenshots in {out}")


if __name__ == "__main__":
    main()
