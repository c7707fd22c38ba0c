"""``/v1/events``: the live event stream, and the tickets a browser opens it with.

``GET /v1/events`` streams Server-Sent Events (:mod:`.event_stream`);
``?topics=`` chooses topics, ``Last-Event-ID`` (the header an
``EventSource`` sends when it reconnects by itself, or ``?last_event_id=``
for a client that opens a new one) resumes after the event it names.

``POST /v1/events/ticket`` gives a client holding a token a short-lived
ticket to put in the stream's URL, since a browser's ``EventSource`` cannot
send ``Authorization`` (:mod:`rpymostat.auth.tickets`).  With access open
(``RPYMOSTAT_AUTH=off``) the stream needs none, but a ticket is still
answered, so a web page works the same either way.
"""

from rpymostat.api.errors import api_app, json_bytes, render_failure
from rpymostat.api.event_stream import topic_filter
from rpymostat.api.jsonio import query_argument
from rpymostat.auth.policy import principal
from rpymostat.protocol.times import iso_utc


class EventsApi:
    """The ``/v1/events`` routes over the engine's :class:`~.event_stream.EventStream`,
    its :class:`~rpymostat.auth.tickets.TicketBook` and its wall ``clock`` (for when a ticket ends)."""

    app = api_app()

    def __init__(self, stream, tickets, clock):
        self._stream, self._tickets, self._clock = stream, tickets, clock

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/", methods=["GET"])
    def events(self, request):
        topics = topic_filter(query_argument(request, "topics"))
        last_event_id = request.getHeader(b"last-event-id")
        if last_event_id is not None:
            last_event_id = last_event_id.decode("utf-8", "replace")
        else:
            last_event_id = query_argument(request, "last_event_id")
        return self._stream.resource(topics, last_event_id)

    @app.route("/ticket", methods=["POST"])
    def ticket(self, request):
        ticket, lifetime = self._tickets.issue(principal(request))
        expires = iso_utc(self._clock.seconds() + lifetime)
        return json_bytes(request, 201, {"ticket": ticket, "expires": expires})
