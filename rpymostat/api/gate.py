"""The gate in front of the whole API: no handler runs for a request the access policy refuses.

Checking here, once, rather than in each handler means a route added
tomorrow is protected by default.  The policy answers at once when it can
(a token it knows, no token at all), so a busy sensor host's update costs no
extra reactor turn; when it must read the token's record first, the request
waits for that, then goes on to the API as if nothing happened.
"""

from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from rpymostat.api.errors import refused_bytes, render_failure
from rpymostat.auth.refusals import Refused


class AccessGate(Resource):
    """Passes each request to ``inner`` once ``access.admit(request)`` allows it."""

    isLeaf = True

    def __init__(self, inner, access):
        super().__init__()
        self._inner = inner
        self._access = access

    def render(self, request):
        try:
            waiting = self._access.admit(request)
        except Refused as refusal:
            return refused_bytes(request, refusal)
        if waiting is None:
            return self._inner.render(request)
        finished = []
        request.notifyFinish().addBoth(finished.append)
        waiting.addCallbacks(
            lambda _: self._render_later(request, finished),
            lambda failure: self._refuse_later(request, finished, failure),
        )
        return NOT_DONE_YET

    def _render_later(self, request, finished):
        if finished:  # the client went away while its token was looked up
            return
        body = self._inner.render(request)
        if body is not NOT_DONE_YET:
            request.write(body)
            request.finish()

    def _refuse_later(self, request, finished, failure):
        if finished:
            return
        # A refusal, or a token that could not be read (the database is down), answered as any handler would.
        body = render_failure(request, failure)
        request.write(body)
        request.finish()
