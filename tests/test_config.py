"""Engine configuration from the environment, and ``--show-config``."""

import io
from pathlib import Path

import pytest

from rpymostat import runner
from rpymostat.config import SETTINGS, EngineConfig, from_environ
from rpymostat.protocol.settings import ConfigError

BASE = {"HOME": "/home/pi", "TZ": "Europe/Berlin"}


def test_defaults():
    config = from_environ(BASE)
    assert config == EngineConfig(
        api_host="0.0.0.0",
        api_port=8088,
        data_dir=Path("/home/pi/.local/share/rpymostat"),
        db=None,
        timezone="Europe/Berlin",
        advertise=True,
        mdns_interfaces=(),
        timeline_hours=48.0,
    )
    assert config.sqlite_path == Path("/home/pi/.local/share/rpymostat/rpymostat.sqlite3")


def test_data_dir_follows_xdg_data_home():
    assert from_environ({**BASE, "XDG_DATA_HOME": "/data"}).data_dir == Path("/data/rpymostat")


@pytest.fixture
def host_zone(monkeypatch):
    """Sets the host's own zone (what tzlocal reads: the process's ``TZ``) for one test."""
    import tzlocal

    def set_zone(name):
        monkeypatch.setenv("TZ", name)
        tzlocal.reload_localzone()

    yield set_zone
    monkeypatch.undo()
    tzlocal.reload_localzone()


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_host_timezone_without_tz_is_a_valid_zone(host_zone, zone):
    import zoneinfo

    host_zone(zone)
    name = from_environ({"HOME": "/root"}).timezone
    zoneinfo.ZoneInfo(name)
    assert name == zone  # the host's zone, not a default that happens to load


@pytest.mark.parametrize(
    "tz, zone",
    [
        (":Asia/Tokyo", "Asia/Tokyo"),  # POSIX allows a leading colon
        ("Europe/Berlin", "Europe/Berlin"),
        ("Mars/Olympus", "UTC"),  # a TZ this host cannot read falls back to UTC rather than failing
    ],
)
def test_host_timezone_prefers_the_environments_tz(host_zone, tz, zone):
    host_zone("America/New_York")
    assert from_environ({"HOME": "/root", "TZ": tz}).timezone == zone


def test_every_setting_is_read():
    config = from_environ(
        {
            "RPYMOSTAT_API_HOST": "127.0.0.1",
            "RPYMOSTAT_API_PORT": "9000",
            "RPYMOSTAT_DATA_DIR": "/var/lib/rpymostat",
            "RPYMOSTAT_DB": "mongodb://db.local:27017/thermostat",
            "RPYMOSTAT_TIMEZONE": "America/New_York",
            "RPYMOSTAT_ADVERTISE": "off",
            "RPYMOSTAT_MDNS_INTERFACES": "127.0.0.1, ::1",
            "RPYMOSTAT_TIMELINE_HOURS": "72",
            "RPYMOSTAT_SCHEDULE_PLUGIN": " rules ",
        }
    )
    assert config == EngineConfig(
        api_host="127.0.0.1",
        api_port=9000,
        data_dir=Path("/var/lib/rpymostat"),
        db="mongodb://db.local:27017/thermostat",
        timezone="America/New_York",
        advertise=False,
        mdns_interfaces=("127.0.0.1", "::1"),
        timeline_hours=72.0,
    )


def test_empty_value_means_default():
    assert from_environ({**BASE, "RPYMOSTAT_API_PORT": "  "}).api_port == 8088


@pytest.mark.parametrize(
    "variable, value, reason",
    [
        ("RPYMOSTAT_API_HOST", "localhost", "expected an IP address"),
        ("RPYMOSTAT_API_PORT", "eighty", "expected a whole number from 0 to 65535"),
        ("RPYMOSTAT_API_PORT", "65536", "expected a whole number from 0 to 65535"),
        ("RPYMOSTAT_DATA_DIR", "/etc/hostname", "exists and is not a directory"),
        ("RPYMOSTAT_DB", "postgres://x/y", "expected mongodb://host:port/dbname"),
        ("RPYMOSTAT_DB", "mongodb:///rpymostat", "the URL names no host"),
        ("RPYMOSTAT_DB", "mongodb://db:27017", "the URL names no database"),
        ("RPYMOSTAT_TIMEZONE", "Mars/Olympus", "not an IANA time zone name"),
        ("RPYMOSTAT_TIMEZONE", "../../etc/passwd", "not an IANA time zone name"),
        ("RPYMOSTAT_ADVERTISE", "maybe", "expected 1 or 0"),
        ("RPYMOSTAT_MDNS_INTERFACES", "eth0", "expected an IP address"),
        ("RPYMOSTAT_TIMELINE_HOURS", "400", "expected a number of hours from 1 to 336"),
        ("RPYMOSTAT_TIMELINE_HOURS", "soon", "expected a number of hours from 1 to 336"),
        ("RPYMOSTAT_DECISION_INTERVAL", "0", "expected a number of seconds greater than 0"),
        ("RPYMOSTAT_DECISION_INTERVAL", "600", "expected a number of seconds greater than 0 and at most 60"),
        ("RPYMOSTAT_SENSOR_STALE_S", "-1", "expected a number of seconds greater than 0"),
        ("RPYMOSTAT_MIN_ON_S", "-1", "expected a number of seconds, zero or more"),
        ("RPYMOSTAT_MIN_OFF_S", "later", "expected a number of seconds"),
        ("RPYMOSTAT_MAX_CYCLES_PER_HOUR", "0", "expected a whole number from 1 to 60"),
        ("RPYMOSTAT_MAX_CYCLES_PER_HOUR", "many", "expected a whole number"),
        ("RPYMOSTAT_FROST_C", "-5", "expected degrees Celsius from 2 to 12"),
        ("RPYMOSTAT_FROST_C", "cold", "expected degrees Celsius from 2 to 12"),
        ("RPYMOSTAT_SCHEDULE_PLUGIN", "outlook", "no schedule plugin 'outlook' is installed; installed: rules"),
    ],
)
def test_bad_value_names_the_variable(variable, value, reason):
    with pytest.raises(ConfigError) as raised:
        from_environ({**BASE, variable: value})
    assert str(raised.value).startswith(f"{variable}={value!r} is invalid: {reason}")


def test_bad_value_exits_2_with_message():
    stderr = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stderr", stderr)
        status = runner.main(["--show-config"], {**BASE, "RPYMOSTAT_API_PORT": "x"})
    assert status == 2
    assert stderr.getvalue().startswith("rpymostat-engine: RPYMOSTAT_API_PORT='x' is invalid")


def test_show_config_prints_every_setting_and_exits_0(capsys):
    status = runner.main(["--show-config"], {**BASE, "RPYMOSTAT_API_PORT": "9000"})
    out = capsys.readouterr().out
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["VARIABLE", "TYPE", "DEFAULT", "VALUE", "DESCRIPTION"]
    for setting in SETTINGS:
        assert any(line.startswith(setting.env + " ") for line in lines[1:]), setting.env
    [port] = [line for line in lines if line.startswith("RPYMOSTAT_API_PORT")]
    assert port.split()[:4] == ["RPYMOSTAT_API_PORT", "port", "8088", "9000"]
    [db] = [line for line in lines if line.startswith("RPYMOSTAT_DB ")]
    assert db.split()[1:4] == ["URL", "(unset)", "(unset)"]
    [advertise] = [line for line in lines if line.startswith("RPYMOSTAT_ADVERTISE")]
    assert advertise.split()[1:4] == ["bool", "1", "1"]
    [interfaces] = [line for line in lines if line.startswith("RPYMOSTAT_MDNS_INTERFACES")]
    assert interfaces.split()[1:5] == ["IP", "list", "(all)", "(all)"]


def test_help_mentions_verbosity_and_show_config(capsys):
    with pytest.raises(SystemExit) as raised:
        runner.main(["--help"], BASE)
    assert raised.value.code == 0
    out = capsys.readouterr().out
    assert "-v, --verbose" in out and "--show-config" in out


@pytest.mark.parametrize(
    "text, value", [("1", True), ("Yes", True), ("ON", True), ("0", False), ("false", False), ("no", False)]
)
def test_parse_bool(text, value):
    from rpymostat.protocol.settings import parse_bool

    assert parse_bool(text) is value


@pytest.mark.parametrize("text, value", [("30", 30.0), ("0.5", 0.5)])
def test_parse_positive_seconds(text, value):
    from rpymostat.protocol.settings import parse_positive_seconds

    assert parse_positive_seconds(text) == value


@pytest.mark.parametrize(
    "text, reason",
    [
        ("soon", "expected a number of seconds"),
        ("0", "greater than 0"),
        ("-5", "greater than 0"),
        ("nan", "greater than 0"),
        ("inf", "greater than 0"),
    ],
)
def test_parse_positive_seconds_rejects(text, reason):
    from rpymostat.protocol.settings import parse_positive_seconds

    with pytest.raises(ValueError, match=reason):
        parse_positive_seconds(text)


def test_safety_settings_become_the_safety_layers_limits():
    config = from_environ(
        {
            **BASE,
            "RPYMOSTAT_MIN_ON_S": "0",
            "RPYMOSTAT_MIN_OFF_S": "60",
            "RPYMOSTAT_MAX_CYCLES_PER_HOUR": "3",
            "RPYMOSTAT_FROST_C": "7",
        }
    )
    assert (config.limits.min_on_s, config.limits.min_off_s) == (0.0, 60.0)
    assert (config.limits.max_cycles_per_hour, config.limits.frost_c) == (3, 7.0)
    assert from_environ(BASE).limits.min_on_s == 300.0
