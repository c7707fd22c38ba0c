"""A Sphinx directive that renders a daemon's settings table from its code.

Usage::

    .. rpymostat-settings:: rpymostat.config

imports the named module, reads its ``SETTINGS`` tuple of
:class:`rpymostat.protocol.settings.Setting` rows and renders a table with the
columns Variable, Type, Default and Description.  The table is built from the
same rows the daemon loads its configuration from (and prints for
``--show-config``), so the documentation cannot drift from the code.
"""

import importlib

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

HEADERS = ("Variable", "Type", "Default", "Description")
COLUMN_WIDTHS = (30, 12, 12, 46)


def show_default(setting) -> str:
    """How a setting's default reads in the docs."""
    if getattr(setting, "default_factory", None) is not None:
        return "(computed)"
    value = setting.default
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value) if value else "(all)"
    return str(value)


def _cell(content) -> nodes.entry:
    entry = nodes.entry()
    if isinstance(content, nodes.Node):
        entry += nodes.paragraph("", "", content)
    else:
        entry += nodes.paragraph("", str(content))
    return entry


def _row(cells) -> nodes.row:
    row = nodes.row()
    for content in cells:
        row += _cell(content)
    return row


def settings_rows(settings):
    """The table's body rows, one tuple of cell contents per setting."""
    return [
        (
            nodes.literal(setting.env, setting.env),
            setting.type_name,
            show_default(setting),
            setting.description,
        )
        for setting in settings
    ]


class SettingsTableDirective(SphinxDirective):
    """``.. rpymostat-settings:: module.name`` -- the module's SETTINGS as a table."""

    required_arguments = 1
    optional_arguments = 0
    has_content = False

    def run(self):
        module_name = self.arguments[0].strip()
        try:
            module = importlib.import_module(module_name)
        except Exception as e:  # any import failure is a documentation error
            raise self.error(f"rpymostat-settings: cannot import {module_name!r}: {e}") from e
        settings = getattr(module, "SETTINGS", None)
        if not isinstance(settings, tuple) or not settings:
            raise self.error(f"rpymostat-settings: {module_name!r} has no non-empty SETTINGS tuple")
        source = getattr(module, "__file__", None)
        if source:
            # Rebuild the page when the settings' module changes.
            self.env.note_dependency(source)

        table = nodes.table(classes=["rpymostat-settings"])
        tgroup = nodes.tgroup(cols=len(HEADERS))
        table += tgroup
        for width in COLUMN_WIDTHS:
            tgroup += nodes.colspec(colwidth=width)
        thead = nodes.thead()
        thead += _row(HEADERS)
        tgroup += thead
        tbody = nodes.tbody()
        for cells in settings_rows(settings):
            tbody += _row(cells)
        tgroup += tbody
        return [table]


def setup(app):
    app.add_directive("rpymostat-settings", SettingsTableDirective)
    return {
        "version": "1.0",
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
