"""Schedule plugins load from entry points and are verified against their interface."""

from importlib.metadata import EntryPoint
from zoneinfo import ZoneInfo

import pytest
from zope.interface.verify import verifyObject

from rpymostat.protocol.plugins import PluginError, load_plugins
from rpymostat.schedule.plugin import GROUP, ISchedulePlugin
from rpymostat.schedule.rules_plugin import RulesSchedule
from rpymostat.testing import FakeStorage


def test_built_in_rules_plugin_is_installed_and_valid():
    plugins = load_plugins(GROUP, ISchedulePlugin)
    assert plugins["rules"] is RulesSchedule
    plugin = RulesSchedule(FakeStorage(), ZoneInfo("UTC"))
    assert verifyObject(ISchedulePlugin, plugin)
    assert plugin.config_schema["type"] == "object"


class NotAPlugin:
    """Declares nothing and has no timeline method."""


@pytest.mark.parametrize(
    "target, reason",
    [
        ("tests.test_schedule_plugin:NotAPlugin", "failed to implement interface"),
        ("tests.nowhere:Thing", "No module named"),
    ],
)
def test_broken_plugin_fails_loading_with_its_name(target, reason):
    entry = EntryPoint(name="broken", value=target, group=GROUP)
    with pytest.raises(PluginError, match=f"(?s)^{GROUP} plugin 'broken' \\({target}\\) is broken: .*{reason}"):
        load_plugins(GROUP, ISchedulePlugin, found=[entry])
