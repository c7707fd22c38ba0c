"""Browse for a DNS-SD service type from a process of its own, and print JSON.

Tests and acceptance tests run this as a subprocess, so what they check is
what any other program on the host would see, not the advertiser's own cache::

    python tests/mdns_browse.py _rpymostat._tcp.local. 3 127.0.0.1 \
        [--name NAME] [--count N] [--watch]

The interface address is required on purpose: tests pass ``127.0.0.1`` so
their mDNS traffic never leaves the machine.  ``--name`` ignores every service
but that one (full name, as ``x._rpymostat._tcp.local.``), so a test is not
confused by another engine on the host.

Default mode prints one line when the timeout passes, or as soon as ``--count``
services are resolved: ``{"services": [{"name", "addresses", "port",
"properties", "server"}, ...]}``, sorted by name.

``--watch`` prints one line per event as it happens, ``{"event": "added",
"service": {...}}`` or ``{"event": "removed", "name": ...}``, and exits after
the first removal or at the timeout, so a test can withdraw an advertisement
and see the goodbye arrive.

Only python-zeroconf's public API is used; its browser calls back on its own
thread, which only queues the event for the main thread to resolve.
"""

import argparse
import json
import queue
import sys
import time

from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

#: How long to wait for one service's SRV/TXT/address records, in milliseconds.
RESOLVE_TIMEOUT_MS = 1500


def describe(info):
    """A JSON-ready view of a resolved ``ServiceInfo``; TXT values decoded as UTF-8."""
    return {
        "name": info.name,
        "server": info.server,
        "addresses": sorted(info.parsed_addresses()),
        "port": info.port,
        "properties": {
            key.decode("utf-8", "replace"): (None if value is None else value.decode("utf-8", "replace"))
            for key, value in info.properties.items()
        },
    }


def browse(service_type, timeout, interface, name=None, count=0, watch=False, out=sys.stdout):
    """Browse until the timeout (or the wanted event); write JSON lines to ``out``."""
    events = queue.Queue()
    wanted = None if name is None else name.lower()

    def on_change(zeroconf, service_type, name, state_change):
        # python-zeroconf passes these by keyword, so the names are fixed.
        if wanted is None or name.lower() == wanted:
            events.put((state_change, name))

    zeroconf = Zeroconf(interfaces=[interface])
    found = {}
    try:
        ServiceBrowser(zeroconf, service_type, handlers=[on_change])
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                state_change, name = events.get(timeout=remaining)
            except queue.Empty:
                break
            if state_change is ServiceStateChange.Removed:
                found.pop(name, None)
                if watch:
                    emit(out, {"event": "removed", "name": name})
                    break
                continue
            if state_change is not ServiceStateChange.Added:
                continue
            info = zeroconf.get_service_info(service_type, name, timeout=RESOLVE_TIMEOUT_MS)
            if info is None:
                continue
            found[name] = describe(info)
            if watch:
                emit(out, {"event": "added", "service": found[name]})
            elif count and len(found) >= count:
                break
    finally:
        zeroconf.close()
    if not watch:
        emit(out, {"services": [found[name] for name in sorted(found)]})


def emit(out, message):
    out.write(json.dumps(message, sort_keys=True) + "\n")
    out.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service_type", help="for example _rpymostat._tcp.local.")
    parser.add_argument("timeout", type=float, help="seconds to browse at most")
    parser.add_argument("interface", help="address to run mDNS on, e.g. 127.0.0.1")
    parser.add_argument("--name", help="report only the service of this full name")
    parser.add_argument("--count", type=int, default=0, help="stop once this many are found")
    parser.add_argument("--watch", action="store_true", help="print events as they happen")
    args = parser.parse_args(argv)
    browse(args.service_type, args.timeout, args.interface, args.name, args.count, args.watch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
