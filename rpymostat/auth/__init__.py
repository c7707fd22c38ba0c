"""Who may do what: tokens, roles, pairing and the access gate every request passes.

See docs/security.rst for the threat model.  :mod:`.roles` reads each
operation's roles from the OpenAPI document, :mod:`.throttle` slows down
guessing, :mod:`.policy` admits requests by bearer token, and :mod:`.admin`
creates tokens and approves pairings for both the API and the
``rpymostat-engine token``/``pair`` commands (:mod:`.cli`).
"""
