"""The web UI's settings: defaults, checks naming the variable, secrets never shown."""

import pytest

from rpymostat.protocol.settings import ConfigError, describe
from rpymostat_webui.config import SETTINGS, from_environ


def test_defaults_listen_on_every_address_port_8080_and_pair_as_admin(tmp_path):
    config = from_environ({"XDG_DATA_HOME": str(tmp_path)})
    assert (config.host, config.port, config.role, config.secure_cookies) == ("0.0.0.0", 8080, "admin", "auto")
    assert config.engine_url is None and config.password is None
    assert config.data_dir == tmp_path / "rpymostat"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RPYMOSTAT_WEBUI_PORT", "eighty", "RPYMOSTAT_WEBUI_PORT="),
        ("RPYMOSTAT_WEBUI_HOST", "example.org", "RPYMOSTAT_WEBUI_HOST="),
        ("RPYMOSTAT_WEBUI_ROLE", "root", "expected admin or user"),
        ("RPYMOSTAT_WEBUI_SECURE_COOKIES", "sometimes", "expected auto, always or never"),
        ("RPYMOSTAT_WEBUI_PASSWORD", "short", "at least 8 characters"),
        ("RPYMOSTAT_WEBUI_PASSWORD_FILE", "/nonexistent/password", "cannot read '/nonexistent/password'"),
    ],
)
def test_a_bad_value_names_its_variable(variable, value, message):
    with pytest.raises(ConfigError) as raised:
        from_environ({variable: value})
    assert variable in str(raised.value) and message in str(raised.value)


def test_a_short_password_is_never_echoed():
    with pytest.raises(ConfigError) as raised:
        from_environ({"RPYMOSTAT_WEBUI_PASSWORD": "hunter2"})
    assert "hunter2" not in str(raised.value)


def test_a_password_file_is_read_without_its_line_end(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("a house password\n")
    assert from_environ({"RPYMOSTAT_WEBUI_PASSWORD_FILE": str(secret)}).password_file == secret
    secret.write_text("short\n")
    with pytest.raises(ConfigError, match="at least 8"):
        from_environ({"RPYMOSTAT_WEBUI_PASSWORD_FILE": str(secret)})


def test_show_config_hides_the_password_and_the_token():
    config = from_environ({"RPYMOSTAT_WEBUI_PASSWORD": "a house password", "RPYMOSTAT_TOKEN": "rpy_secret_token"})
    table = describe(SETTINGS, config)
    assert "RPYMOSTAT_WEBUI_PASSWORD" in table and "RPYMOSTAT_WEBUI_ROLE" in table
    assert "a house password" not in table and "rpy_secret_token" not in table


def test_the_other_choices_are_taken(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("a house password\n")
    config = from_environ(
        {
            "RPYMOSTAT_WEBUI_ROLE": "user",
            "RPYMOSTAT_WEBUI_SECURE_COOKIES": "always",
            "RPYMOSTAT_WEBUI_PASSWORD_FILE": str(secret),
        }
    )
    assert (config.role, config.secure_cookies) == ("user", "always")
