"""``/live/events``: the engine's event stream, relayed to the browser without a page thread.

A browser's ``EventSource`` may not be able to reach the engine (another
host, another port, another origin), and Flask would hold one WSGI thread
for as long as a stream stays open: a kiosk keeps it open for months.  So
the UI's Twisted server answers this one path itself: it opens the
engine's ``/v1/events`` with the browser's stream ticket (which only a
logged-in page can get, ``POST /live/ticket``) and copies the bytes as they
arrive.  When either side goes away, so does the other.  Nothing is
buffered or parsed here; the engine's ids, ``reset`` events and
keep-alives pass through unchanged.
"""

from collections.abc import Callable
from urllib.parse import urlencode

from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.web.http_headers import Headers
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from rpymostat_webui.engine import Location

log = Logger()

#: Seconds to wait for the engine to start answering before the browser is told to retry.
ANSWER_TIMEOUT = 10.0

#: Query arguments passed on to the engine; anything else is dropped.
PASSED_ARGUMENTS = (b"ticket", b"topics", b"last_event_id")


#: Seconds without a byte from the engine (it sends a keep-alive every 15 s) before the stream
#: counts as dead: an engine host that lost power sends no FIN, and a browser would otherwise wait
#: for ever with no banner.  Ending the browser's stream makes its page reconnect and say so.
IDLE_TIMEOUT = 45.0


class _Copy(Protocol):
    """Writes the engine's stream to the browser's request as it arrives; ends both when it goes quiet."""

    def __init__(self, request, clock, idle_timeout=IDLE_TIMEOUT):
        self.request = request
        self.open = True
        self._idle = clock.callLater(idle_timeout, self._quiet)
        self._idle_timeout = idle_timeout

    def dataReceived(self, data):
        if self.open:
            self._idle.reset(self._idle_timeout)
            self.request.write(data)

    def connectionLost(self, reason):
        if self.open:
            self._close()
            self.request.finish()

    def browser_gone(self, _reason):
        if self.open:
            self._close()
            self.transport.stopProducing()  # set by deliverBody, before the browser can be gone

    def _quiet(self):
        log.info("the engine's event stream went quiet for {seconds:.0f} s; ending it", seconds=self._idle_timeout)
        self.open = False
        self.transport.stopProducing()
        self.request.finish()

    def _close(self):
        self.open = False
        if self._idle.active():
            self._idle.cancel()


class EventRelay(Resource):
    """GET only; ``locate()`` says where the engine is (its ``/v1`` URL), ``agent`` makes the request."""

    isLeaf = True
    idle_timeout = IDLE_TIMEOUT

    def __init__(self, reactor, locate: Callable[[], Location], agent):
        super().__init__()
        self._reactor, self._locate, self._agent = reactor, locate, agent

    def render_GET(self, request):
        where = self._locate()
        if where.url is None:
            return _error(request, 503, f"no engine: {where.reason}")
        query = [
            (name.decode(), value.decode("utf-8", "replace"))
            for name in PASSED_ARGUMENTS
            for value in request.args.get(name, [])[:1]
        ]
        if not any(name == "ticket" for name, _ in query):
            return _error(request, 401, "a stream ticket is needed: POST /live/ticket first")
        headers = Headers({b"Accept": [b"text/event-stream"]})
        last = request.getHeader(b"last-event-id")  # bytes, as asked for by a bytes name
        if last:
            headers.addRawHeader(b"Last-Event-ID", last[:200])
        url = f"{where.url}/events?{urlencode(query)}"
        asked = self._agent.request(b"GET", url.encode("utf-8"), headers, None)
        asked.addTimeout(ANSWER_TIMEOUT, self._reactor)
        gone = request.notifyFinish()
        gone.addErrback(lambda _failure: asked.cancel())
        asked.addCallbacks(self._answered, self._failed, callbackArgs=(request, gone), errbackArgs=(request,))
        return NOT_DONE_YET

    def _answered(self, response, request, gone):
        # The browser is still there: had it gone, ``gone`` would have cancelled ``asked`` (see _failed).
        request.setResponseCode(response.code)
        for name in (b"content-type", b"cache-control"):
            for value in response.headers.getRawHeaders(name, []):
                request.setHeader(name, value)
        request.setHeader(b"X-Accel-Buffering", b"no")
        copy = _Copy(request, self._reactor, self.idle_timeout)
        gone.addBoth(copy.browser_gone)
        response.deliverBody(copy)

    def _failed(self, failure, request):
        if request.finished or getattr(request, "_disconnected", False):
            return
        log.info("cannot relay the event stream: {error}", error=failure.getErrorMessage())
        request.write(_error(request, 502, "the engine's event stream cannot be reached; retrying"))
        request.finish()


def _error(request, code: int, message: str) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
    request.setHeader(b"Cache-Control", b"no-store")
    return message.encode("utf-8") + b"\n"
