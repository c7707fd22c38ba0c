"""Live updates for the browser: a stream ticket from the engine, for ``/live/events``.

The browser's ``EventSource`` cannot send a token, and the household's
browsers never see the UI's engine token.  A logged-in page asks here
(``POST /live/ticket``, with its CSRF header) and gets a five-minute,
read-only engine stream ticket; it then opens ``/live/events?ticket=...``,
which the UI's Twisted server relays from the engine's ``/v1/events``
without tying up a page thread (``rpymostat_webui.relay``).  When the
ticket has expired the page simply asks for a new one.
"""

from flask import Blueprint

from rpymostat_webui import context

blueprint = Blueprint("live", __name__, url_prefix="/live")


@blueprint.route("/ticket", methods=["POST"])
def ticket():
    answer = context.engine().post("/events/ticket")
    return {"ticket": answer["ticket"], "expires": answer["expires"]}
