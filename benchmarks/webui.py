"""What the web UI costs: its memory, the home page's server time, the kiosk page's weight.

``python benchmarks/webui.py [--requests 300] [--zones 3] [--script PATH]``
starts a real ``rpymostat-engine`` and ``rpymostat-webui`` on 127.0.0.1 (the
UI given the engine's URL and admin token, a provisioned password), gives the
engine ``--zones`` zones of two sensors with readings (besides its ``default``
zone), logs in, and prints:

- the home page's time from request to last byte on a keep-alive connection,
  p50/p95/max over ``--requests`` requests after 20 to warm up (target p95
  < 50 ms; the engine on loopback answers the UI's own requests within it);
- the UI process's RSS and PSS after that load, and its overhead above a bare
  Twisted reactor started by the same interpreter (target RSS < 60 MB,
  MB = 10^6 bytes);
- the kiosk page's weight: its HTML and every script and stylesheet it loads,
  raw and gzipped (target JavaScript + CSS < 100 KB gzipped, KB = 1000 bytes).

``--script`` runs another installation's ``rpymostat-webui`` (for example a
fresh ``pip install ".[webui]"`` venv); the bare reactor runs with that
installation's Python.  Figures, not a test.
"""

import argparse
import gzip
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

PASSWORD = "a benchmark password"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def script(name):
    beside = Path(sys.executable).parent / name
    return str(beside if beside.exists() else shutil.which(name) or sys.exit(f"{name} is not installed"))


def wait_for(url, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{url}: the process exited {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{url} did not answer in {seconds} s")


def engine_request(url, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


def furnish(url, token, zones):
    """``zones`` zones of two fresh sensors each, so the home page has something to say."""
    readings = {}
    for zone in range(zones):
        for sensor in range(2):
            readings[f"28-bench-{zone}-{sensor}"] = {"type": "DS18B20", "value": 20.0 + zone + sensor / 10}
    engine_request(url, token, "PUT", "/v1/sensors/update", {"host_id": "bench-host", "sensors": readings})
    for zone in range(zones):
        sensors = {f"28-bench-{zone}-{sensor}": 1.0 for sensor in range(2)}
        engine_request(url, token, "PUT", f"/v1/zones/bench-{zone}", {"mode": "heat", "sensors": sensors})


def memory(pid):
    process = psutil.Process(pid)
    full = process.memory_full_info()
    return full.rss / 1e6, getattr(full, "pss", float("nan")) / 1e6


def bare_reactor_memory(python):
    """RSS and PSS of a process that only imported Twisted's reactor and runs it."""
    code = "from twisted.internet import reactor; reactor.callLater(30, reactor.stop); reactor.run()"
    bare = subprocess.Popen([python, "-c", code])
    try:
        time.sleep(3)
        return memory(bare.pid)
    finally:
        bare.terminate()
        bare.wait()


def logged_in_cookie(base):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    opener.open(base + "/login", data=urllib.parse.urlencode({"csrf_token": token, "password": PASSWORD}).encode())
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def time_page(port, cookie, path, requests, warm_up=20):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    for index in range(warm_up + requests):
        started = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": cookie})
        answer = connection.getresponse()
        body = answer.read()
        elapsed = time.perf_counter() - started
        if answer.status != 200:
            sys.exit(f"GET {path} answered {answer.status}: {body[:300]!r}")
        if index >= warm_up:
            times.append(elapsed * 1000)
    connection.close()
    times.sort()
    return times


def page_weight(base, cookie, path):
    """(html raw, html gz, assets raw, assets gz, [(asset, raw, gz)]) of a page and what it loads."""
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", cookie)]
    html = opener.open(base + path).read()
    assets = re.findall(rb'<(?:script[^>]+src|link[^>]+href)="(/static/[^"]+)"', html)
    rows = []
    for asset in dict.fromkeys(assets):
        body = opener.open(base + asset.decode()).read()
        rows.append((asset.decode(), len(body), len(gzip.compress(body, 9))))
    return len(html), len(gzip.compress(html, 9)), rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--zones", type=int, default=3)
    parser.add_argument("--script", help="the rpymostat-webui to measure (default: this installation's)")
    args = parser.parse_args(argv)
    webui_script = args.script or script("rpymostat-webui")
    webui_python = str(Path(webui_script).parent / "python")
    work = Path(tempfile.mkdtemp(prefix="rpymostat-bench-"))
    engine_port, ui_port = free_port(), free_port()
    base_env = {**os.environ, "RPYMOSTAT_ADVERTISE": "0", "HOME": str(work)}
    engine = subprocess.Popen(
        [script("rpymostat-engine")],
        env={
            **base_env,
            "RPYMOSTAT_API_HOST": "127.0.0.1",
            "RPYMOSTAT_API_PORT": str(engine_port),
            "RPYMOSTAT_DATA_DIR": str(work / "engine"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ui = None
    try:
        engine_url = f"http://127.0.0.1:{engine_port}"
        wait_for(engine_url + "/v1/status", engine)
        token = (work / "engine" / "admin-token").read_text().strip()
        furnish(engine_url, token, args.zones)
        ui = subprocess.Popen(
            [webui_script],
            env={
                **base_env,
                "RPYMOSTAT_ENGINE_URL": engine_url,
                "RPYMOSTAT_TOKEN": token,
                "RPYMOSTAT_WEBUI_HOST": "127.0.0.1",
                "RPYMOSTAT_WEBUI_PORT": str(ui_port),
                "RPYMOSTAT_WEBUI_PASSWORD": PASSWORD,
                "RPYMOSTAT_DATA_DIR": str(work / "webui"),
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{ui_port}"
        wait_for(base + "/healthz", ui)
        time.sleep(2)
        rss_idle, pss_idle = memory(ui.pid)
        cookie = logged_in_cookie(base)
        home = time_page(ui_port, cookie, "/", args.requests)
        kiosk = time_page(ui_port, cookie, "/kiosk/", args.requests // 3)
        rss, pss = memory(ui.pid)
        bare_rss, bare_pss = bare_reactor_memory(webui_python)
        html, html_gz, assets = page_weight(base, cookie, "/kiosk/")
        assets_gz = sum(gz for _, _, gz in assets)
        p95 = home[int(0.95 * (len(home) - 1))]
        print(
            f"web UI: {webui_script}; {args.zones} zones of 2 sensors and the default zone;"
            f" {len(home)} home pages after 20 to warm up"
        )
        print(
            f"home page, p50 / p95 / max    {statistics.median(home):6.1f} / {p95:6.1f} / {home[-1]:6.1f} ms"
            f"   {'PASS' if p95 < 50 else 'FAIL'} (p95 < 50 ms)"
        )
        print(f"kiosk page, p50 / max         {statistics.median(kiosk):6.1f} / {kiosk[-1]:6.1f} ms")
        print(f"RSS / PSS idle after start    {rss_idle:6.1f} / {pss_idle:6.1f} MB")
        print(
            f"RSS / PSS after the pages     {rss:6.1f} / {pss:6.1f} MB   {'PASS' if rss < 60 else 'FAIL'} (RSS < 60 MB)"
        )
        print(f"bare Twisted reactor          {bare_rss:6.1f} / {bare_pss:6.1f} MB (same interpreter)")
        print(f"overhead above it             {rss - bare_rss:+6.1f} / {pss - bare_pss:+6.1f} MB")
        print(f"kiosk HTML                    {html / 1000:6.1f} KB ({html_gz / 1000:.1f} KB gzipped)")
        for asset, raw, gz in assets:
            print(f"  {asset:40s} {raw / 1000:6.1f} KB ({gz / 1000:.1f} KB gzipped)")
        print(
            f"kiosk JavaScript + CSS        {sum(raw for _, raw, _ in assets) / 1000:6.1f} KB"
            f" ({assets_gz / 1000:.1f} KB gzipped)   {'PASS' if assets_gz < 100_000 else 'FAIL'} (< 100 KB gzipped)"
        )
    finally:
        for process in (ui, engine):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(15)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
