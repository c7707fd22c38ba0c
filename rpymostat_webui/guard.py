"""Who may see a page and send a form: the login session, CSRF tokens and failed-login pacing.

Every page but the login, setup and static files needs a logged-in
session.  Every state-changing request (POST, PUT, PATCH, DELETE) must
carry the session's CSRF token, as the form field ``csrf_token`` or the
header ``X-CSRF-Token`` (the live updates' JavaScript); a request without
it is refused with 400 and changes nothing, so another web site cannot
make a logged-in browser change the heating.  The session cookie is
HttpOnly, SameSite=Lax, and Secure when the page came over https (or
always, by configuration).
"""

import hmac
import secrets
import threading
import time
from collections import deque

from flask import abort, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

#: Endpoints reachable without logging in.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.setup", "static", "health"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def csrf_token() -> str:
    """The session's CSRF token, made on first use; templates put it in every form."""
    token = session.get(CSRF_FIELD)
    if token is None:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def _household():
    return current_app.extensions["rpymostat"].household


def logged_in() -> bool:
    """A session of the password in force: one made before the password changed no longer counts."""
    generation = _household().generation()
    sent = session.get("household")
    return generation is not None and isinstance(sent, str) and hmac.compare_digest(sent, generation)


def log_in() -> None:
    """Start a fresh session (a new CSRF token too, so one planted before login is useless)."""
    session.clear()
    session.permanent = True
    session["household"] = _household().generation()
    csrf_token()


def before_request():
    """Flask ``before_request`` hook: send strangers to the login page, refuse forged forms."""
    if request.endpoint not in PUBLIC_ENDPOINTS and not logged_in():
        if request.method in UNSAFE_METHODS or request.headers.get("X-Fragment"):
            abort(401)  # a script's fetch (live.js, kiosk.js) must not get the login page as a card
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if request.method not in UNSAFE_METHODS:
        return None
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get(CSRF_FIELD)
    if expected is None or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, "this form has expired or came from another site; reload the page and try again")
    return None


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, Secure by the request's scheme when set to ``auto``."""

    def __init__(self, secure: str = "auto"):
        self.secure = secure

    def get_cookie_secure(self, app) -> bool:
        if self.secure == "auto":
            return request.is_secure
        return self.secure == "always"


class LoginPacing:
    """At most ``limit`` failed logins per ``window`` seconds from one address, then 429.

    Guessing a household password over the network then takes centuries;
    a right password is always checked, so a neighbour's guessing cannot
    lock the household out for longer than the window.
    """

    def __init__(self, limit: int = 10, window: float = 60.0, monotonic=time.monotonic):
        self.limit, self.window, self._monotonic = limit, window, monotonic
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str) -> deque:
        now = self._monotonic()
        failures = self._failures.setdefault(address, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def attempt(self, address: str) -> int | None:
        """Count a try from ``address`` as failed from the start, or say how long it must wait.

        Counting before the password is checked means tries sent in parallel
        (a page thread each) cannot slip past the limit; a right password then
        calls :meth:`succeeded`, which takes the count back.
        """
        with self._lock:
            self._sweep()
            failures = self._recent(address)
            if len(failures) >= self.limit:
                return max(1, int(failures[0] + self.window - self._monotonic()) + 1)
            failures.append(self._monotonic())
            return None

    def succeeded(self, address: str) -> None:
        with self._lock:
            failures = self._failures.get(address)
            if failures:
                failures.pop()
                if not failures:
                    del self._failures[address]

    def _sweep(self) -> None:
        """Forget addresses whose failures all aged out, once many are remembered (a scan of the LAN)."""
        if len(self._failures) < 1000:
            return
        oldest_kept = self._monotonic() - self.window
        for address in [a for a, failures in self._failures.items() if not failures or failures[-1] <= oldest_kept]:
            del self._failures[address]
