"""Logging in, setting the first password with the setup code, logging out, choosing °C or °F."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from rpymostat_webui import context, guard
from rpymostat_webui.household import PasswordRejected
from rpymostat_webui.units import COOKIE, UNITS

blueprint = Blueprint("auth", __name__)

#: A year: the unit is a lasting choice of this browser.
UNIT_COOKIE_AGE = 365 * 86400


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never another site's URL)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    household = context.state().household
    if household.needs_setup:
        return redirect(url_for("auth.setup"))
    error, status = None, 200
    if request.method == "POST":
        address = request.remote_addr or "?"
        wait = context.state().pacing.attempt(address)
        if wait is not None:
            error, status = f"Too many wrong passwords; try again in {wait} s.", 429
        elif household.check(request.form.get("password", "")):
            context.state().pacing.succeeded(address)
            guard.log_in()
            return redirect(_safe_next(request.args.get("next")))
        else:
            error, status = "That is not the household password.", 401
    return render_template("login.html", error=error), status


@blueprint.route("/setup", methods=["GET", "POST"])
def setup():
    household = context.state().household
    if not household.needs_setup:
        return redirect(url_for("auth.login"))
    household.setup_code()  # written now if it was not yet, so the file the page names exists
    error, status = None, 200
    if request.method == "POST":
        address = request.remote_addr or "?"
        wait = context.state().pacing.attempt(address)
        if wait is not None:
            error, status = f"Too many wrong codes; try again in {wait} s.", 429
        else:
            try:
                household.set_up(
                    request.form.get("code", ""),
                    request.form.get("password", ""),
                    request.form.get("repeated", ""),
                )
            except PasswordRejected as rejected:
                error, status = str(rejected), 422
            else:
                context.state().pacing.succeeded(address)
                guard.log_in()
                flash("The household password is set. Welcome.")
                return redirect(url_for("home.index"))
    return render_template("setup.html", error=error, code_path=household.setup_code_path), status


@blueprint.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("auth.login"))


@blueprint.route("/unit", methods=["POST"])
def choose_unit():
    """Remember °C or °F for this browser (a cookie: the engine always speaks Celsius)."""
    code = request.form.get("unit", "C").upper()
    response = redirect(_safe_next(request.form.get("next")))
    if code in UNITS:
        response.set_cookie(COOKIE, code, max_age=UNIT_COOKIE_AGE, samesite="Lax", httponly=True)
    return response


@blueprint.route("/password", methods=["POST"])
def change_password():
    """Change the household password (Settings); every other session ends with the old one."""
    household = context.state().household
    if not household.check(request.form.get("current", "")):
        flash("The current password is not right; nothing changed.", "error")
    else:
        try:
            household.change(request.form.get("password", ""), request.form.get("repeated", ""))
        except PasswordRejected as rejected:
            flash(f"{rejected}; nothing changed.", "error")
        else:
            guard.log_in()  # every other session ended with the old password; this one goes on
            flash("The household password is changed; everyone else must log in again.")
    return redirect(url_for("settings.index"))
