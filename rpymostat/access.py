"""The one access check every write passes through.

Today the engine trusts its network (it runs in a house), so the policy
allows everything; role-based tokens will replace :class:`OpenAccess` without
touching a handler, because every handler that changes state calls
``authorize(request, action)`` first.  Action names are ``"<resource>:<verb>"``.
"""

from zope.interface import Interface, implementer


class IAccessPolicy(Interface):
    """Decides whether a request may perform an action."""

    def authorize(request, action):
        """Return None if allowed; raise :class:`rpymostat.api.errors.ApiError` (401/403) if not."""


@implementer(IAccessPolicy)
class OpenAccess:
    """Everyone on the network may do everything (the default, until tokens exist)."""

    def authorize(self, request, action):
        return None
