"""The one access check every request passes through.

:meth:`IAccessPolicy.admit` runs before any handler and decides by the
operation and the request's token alone (see :mod:`rpymostat.auth.policy`);
handlers call :meth:`IAccessPolicy.authorize` for what only the request's
body tells (whose host an update is for, whether a zone's outputs change).
:class:`OpenAccess` allows everything: it is what ``RPYMOSTAT_AUTH=off``
runs, for a lab without strangers, and the engine warns at every start.
Action names are ``"<resource>:<verb>"``.
"""

from twisted.internet.defer import succeed
from zope.interface import Interface, implementer


class IAccessPolicy(Interface):
    """Decides whether a request may go on, and whether it may perform an action."""

    def admit(request):
        """None if ``request`` may go on now, a Deferred firing once it may (failing if
        not), or raise :class:`rpymostat.auth.refusals.Refused` (401/403/429) at once."""

    def authorize(request, action, host_id=None):
        """A Deferred firing if the admitted request may do ``action`` (for ``host_id``),
        failing with a Refused (403) if not."""


@implementer(IAccessPolicy)
class OpenAccess:
    """Everyone on the network may do everything (``RPYMOSTAT_AUTH=off``)."""

    def admit(self, request):
        return None

    def authorize(self, request, action, host_id=None):
        return succeed(None)
