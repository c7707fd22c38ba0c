"""Each operation's roles, read from the OpenAPI document the engine serves.

The document states, per operation, which roles may call it (``x-roles``),
and ``security: []`` for the few anyone may call.  The engine enforces that
same table, so what client authors read is what the engine does, and an
operation added without roles is caught by a test, not by a burglar.
"""

import dataclasses
import re
from urllib.parse import unquote_to_bytes

#: Every role a token can have, most powerful first (docs/security.rst).
ROLES = ("admin", "user", "read", "sensor", "control")

#: Roles whose tokens are bound to one host id.
HOST_ROLES = ("sensor", "control")

#: Roles a daemon may ask for when it pairs: the sensor daemon and the relay unit
#: (bound to their host), and the web UI (``admin`` or ``user``, bound to no host).
PAIRING_ROLES = ("sensor", "control", "admin", "user")

#: What approving a pairing request for each role grants, in words an admin reads before approving.
GRANTS = {
    "sensor": "sends readings for its own host only",
    "control": "registers its own relay unit only",
    "user": "user rights: reads everything, changes schedules, overrides, holds and zones (not outputs)",
    "admin": "FULL CONTROL (admin): tokens, pairing, zone outputs, deleting zones and sensors",
}

_PARAMETER = re.compile(r"\{[^/{}]+\}")

_METHODS = ("get", "put", "post", "delete", "patch")


@dataclasses.dataclass(frozen=True)
class Rule:
    """Who may call one operation: anyone (``exempt``), or a token of one of ``roles``."""

    exempt: bool
    roles: tuple[str, ...]


#: For paths and methods the document does not name (a 404 or 405 to come):
#: an admin's token, so a stranger learns nothing about what exists and no
#: spelling of a path the router reads differently opens more than its rule.
UNNAMED = Rule(exempt=False, roles=("admin",))


class OperationRoles:
    """``rule(method, path)`` for every request, from the document's ``paths``."""

    def __init__(self, openapi: dict):
        compiled = []
        for template, operations in openapi["paths"].items():
            pattern = _PARAMETER.sub("[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
            rules = {}
            for method in _METHODS:
                operation = operations.get(method)
                if operation is not None:
                    rules[method.upper().encode("ascii")] = _rule(template, method, operation)
            if b"GET" in rules:
                rules[b"HEAD"] = rules[b"GET"]
            # Fixed paths before templated ones, as the router prefers them (``/sensors/update``).
            compiled.append((template.count("{"), re.compile(pattern + "/?"), rules))
        compiled.sort(key=lambda entry: entry[0])
        self._paths = [(pattern, rules) for _, pattern, rules in compiled]

    def rule(self, method: bytes, path: bytes) -> Rule:
        """The :class:`Rule` for ``method`` on ``path`` (raw, still percent-encoded).

        The path is decoded first, as the router decodes it before matching:
        ``/v1/%74okens`` is ``/v1/tokens`` to both (an encoded ``/`` then
        splits a segment, and such a path matches no template).
        """
        text = unquote_to_bytes(path).decode("utf-8", "replace")
        for pattern, rules in self._paths:
            if method in rules and pattern.fullmatch(text):
                return rules[method]  # else a template may match (GET of a sensor named "update")
        return UNNAMED


def _rule(template, method, operation) -> Rule:
    if operation.get("security") == []:
        return Rule(exempt=True, roles=())
    roles = operation.get("x-roles")
    if not roles or not set(roles) <= set(ROLES):
        raise ValueError(f"{method.upper()} {template} names no roles, or unknown ones, in x-roles: {roles!r}")
    return Rule(exempt=False, roles=tuple(roles))
