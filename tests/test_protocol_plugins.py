"""The one plugin loader shared by the engine and the daemons."""

import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest
from zope.interface import Attribute, Interface, implementer

from rpymostat.protocol.plugins import PluginError, load_plugins, pick_plugins
from rpymostat.protocol.settings import ConfigError
from rpymostat_control.relays.loading import BrokenBackendError
from rpymostat_sensor.readers.loading import BrokenReaderError

GROUP = "tests.widgets"
HERE = "tests.test_protocol_plugins"


class IWidget(Interface):
    """A plugin kind whose plugins are picked by name."""

    name = Attribute("Short name, as in the entry point.")

    def spin():
        """Spin."""


class IAnonymous(Interface):
    """A plugin kind that declares no name."""

    def spin():
        """Spin."""


@implementer(IWidget, IAnonymous)
class Widget:
    name = "widget"

    def spin(self):
        pass


class Undeclared:
    """Has the method but never says it implements IWidget."""

    name = "undeclared"

    def spin(self):
        pass


def explode():
    raise ZeroDivisionError("division by zero at import")


class Failing(BrokenReaderError):
    """A caller's own error class."""


def point(name, value):
    return EntryPoint(name=name, value=value, group=GROUP)


def test_verified_plugins_are_returned_by_entry_point_name():
    assert load_plugins(GROUP, IWidget, [point("widget", f"{HERE}:Widget")]) == {"widget": Widget}


def test_nothing_installed_is_no_plugins():
    assert load_plugins(GROUP, IWidget) == {}


def test_the_message_names_the_group_entry_point_and_value_by_default():
    value = f"{HERE}:Absent"
    with pytest.raises(PluginError) as raised:
        load_plugins(GROUP, IWidget, [point("absent", value)])
    assert str(raised.value).startswith(f"{GROUP} plugin 'absent' ({value}) is broken: ")
    assert "Absent" in str(raised.value)
    assert isinstance(raised.value.__cause__, AttributeError)


def test_the_kind_and_error_class_can_be_given():
    value = f"{HERE}:Undeclared"
    with pytest.raises(Failing) as raised:
        load_plugins(GROUP, IWidget, [point("undeclared", value)], what="gizmo", error=Failing)
    assert str(raised.value).startswith(f"gizmo 'undeclared' ({value}) is broken: ")
    assert "Does not declaratively implement" in str(raised.value)


def test_any_exception_while_loading_is_a_broken_plugin(monkeypatch):
    entry = point("boom", f"{HERE}:Widget")
    monkeypatch.setattr(EntryPoint, "load", lambda self: explode())
    with pytest.raises(PluginError, match=r"^tests\.widgets plugin 'boom' .* is broken: division by zero at import$"):
        load_plugins(GROUP, IWidget, [entry])


def test_a_name_declared_by_the_interface_must_be_the_entry_point_name():
    value = f"{HERE}:Widget"
    with pytest.raises(PluginError) as raised:
        load_plugins(GROUP, IWidget, [point("gadget", value)])
    assert str(raised.value) == (
        f"{GROUP} plugin 'gadget' ({value}) is broken: its name attribute is 'widget', not 'gadget'"
    )


def test_an_interface_without_a_name_does_not_check_it():
    assert load_plugins(GROUP, IAnonymous, [point("gadget", f"{HERE}:Widget")]) == {"gadget": Widget}


def test_picked_names_come_once_each_in_order():
    assert pick_plugins({"a": 1, "b": 2}, ("b", "a", "b"), "SETTING", "gizmo", "gizmos") == ["b", "a"]
    assert pick_plugins({"a": 1}, (), "SETTING", "gizmo", "gizmos") == []


def test_an_unknown_pick_is_a_config_error_naming_the_setting_and_the_installed():
    with pytest.raises(ConfigError) as raised:
        pick_plugins({"b": 2, "a": 1}, ("a", "x", "y"), "SETTING", "gizmo", "gizmos")
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == "SETTING: unknown gizmo 'x', 'y'; installed gizmos: a, b"
    with pytest.raises(ConfigError, match="installed gizmos: none$"):
        pick_plugins({}, ("x",), "SETTING", "gizmo", "gizmos")


def test_engine_and_daemons_share_the_one_implementation():
    assert issubclass(BrokenReaderError, PluginError)
    assert issubclass(BrokenBackendError, PluginError)


def test_the_built_in_engine_plugins_are_named_as_their_entry_points():
    from rpymostat.decide.plugin import GROUP as DECISION
    from rpymostat.decide.plugin import IDecisionPlugin
    from rpymostat.schedule.plugin import GROUP as SCHEDULE
    from rpymostat.schedule.plugin import ISchedulePlugin

    assert "rules" in load_plugins(SCHEDULE, ISchedulePlugin)
    assert "hysteresis" in load_plugins(DECISION, IDecisionPlugin)


def test_the_loader_imports_no_engine_internals():
    code = (
        "import sys, rpymostat.protocol.plugins\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('klein', 'txmongo', 'pymongo', 'jsonschema', 'werkzeug', 'rpymostat'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.split() == [
        "rpymostat",
        "rpymostat.protocol",
        "rpymostat.protocol.plugins",
        "rpymostat.protocol.settings",
        "rpymostat.version",
    ]
