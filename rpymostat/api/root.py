"""The engine's root resource: a small home page, and ``/v1`` as a branch.

Future API versions mount beside ``/v1`` here, each its own Klein app.
"""

import html
from importlib import resources

from rpymostat.api.errors import api_app, mounted, render_failure
from rpymostat.version import __version__

DOCS_URL = "https://rpymostat.readthedocs.io/"
SOURCE_URL = "https://github.com/jantman/RPyMostat"


class RootApi:
    """Serves ``GET /`` and hands everything under ``/v1`` to the v1 app."""

    app = api_app()

    def __init__(self, v1):
        self._v1_resource = v1.app.resource()
        template = (resources.files("rpymostat.api") / "home.html").read_text("utf-8")
        self._home = template.format(
            version=html.escape(__version__),
            docs=html.escape(DOCS_URL),
            source=html.escape(SOURCE_URL),
        ).encode("utf-8")

    @app.handle_errors(Exception)
    def _failed(self, request, failure):
        return render_failure(request, failure)

    @app.route("/", methods=["GET"])
    def home(self, request):
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        return self._home

    @app.route("/v1", branch=True)
    def v1(self, request):
        return mounted(request, self._v1_resource)
