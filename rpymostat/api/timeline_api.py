"""``/v1/timeline``: what is in force when, for a zone, over a window of time.

The answer comes from the timeline cache (:mod:`rpymostat.schedule.cache`)
when the window lies in what it holds, else it is computed on demand;
``start`` is wall time in the engine's zone when it has no offset.
"""

import datetime

from rpymostat.api.errors import InvalidContent, NotFoundError, api_app, json_bytes, render_failure
from rpymostat.api.jsonio import query_argument
from rpymostat.api.shapes import segment_document
from rpymostat.schedule import documents
from rpymostat.schedule.cache import UnknownZone

#: The longest window one answer covers.
MAX_TIMELINE_HOURS = 14 * 24


class TimelineApi:
    """``GET /v1/timeline?zone=&start=&hours=`` over the timeline cache."""

    app = api_app()

    def __init__(self, timelines, zone_info, clock):
        self._timelines, self._zone_info, self._clock = timelines, zone_info, clock

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/", methods=["GET"])
    async def timeline(self, request):
        zone, begin, end = self._window(request)
        try:
            segments = await self._timelines.timeline(zone, begin, end)
        except UnknownZone:
            raise NotFoundError(f"no zone {zone!r}") from None
        return json_bytes(
            request,
            200,
            {
                "zone": zone,
                "timezone": self._zone_info.key,
                "segments": [segment_document(s) for s in segments],
            },
        )

    def _window(self, request):
        """``(zone, begin, end)`` from the query string, checked."""

        zone = query_argument(request, "zone")
        if zone is None:
            zone = "default"
        elif not zone:
            raise InvalidContent("zone: must not be empty; leave it out for the default zone")
        start = query_argument(request, "start")
        begin = documents.instant(self._clock.seconds())
        if start is not None:
            try:
                begin = documents.parse_instant(start, self._zone_info)
            except ValueError as error:
                raise InvalidContent(f"start: {error}") from None
        hours = query_argument(request, "hours")
        try:
            length = float(hours) if hours is not None else 48.0
        except ValueError:
            length = -1.0
        if not 0 < length <= MAX_TIMELINE_HOURS:
            raise InvalidContent(f"hours: must be a number above 0 and at most {MAX_TIMELINE_HOURS}")
        end = begin + datetime.timedelta(hours=length)
        if end >= documents.LATEST:
            raise InvalidContent("start: the window must end before the year 2100")
        return zone, begin, end
