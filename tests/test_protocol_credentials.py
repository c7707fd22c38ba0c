"""A daemon's engine credentials: stored atomically and privately, moved aside when refused."""

import json
import os
import stat

import pytest
from twisted.logger import LogLevel, capturedLogs

from rpymostat.protocol import credentials
from rpymostat.protocol.credentials import (
    CREDENTIALS_FILE,
    TOKEN_SETTINGS,
    Credentials,
    forget,
    hand_given,
    initial,
    load,
    parse_token,
    parse_token_file,
    save,
)
from rpymostat.protocol.settings import ConfigError, describe
from rpymostat.protocol.settings import load as load_settings

PAIRED = Credentials("rpy_token-1", "sensor-pi-1", "the-secret")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_saved_credentials_load_back_and_are_private(tmp_path):
    path = save(tmp_path / "data", PAIRED)
    assert path == tmp_path / "data" / CREDENTIALS_FILE
    assert mode(path) == 0o600
    assert json.loads(path.read_text()) == {
        "token": "rpy_token-1",
        "name": "sensor-pi-1",
        "secret": "the-secret",
        "fingerprint": None,  # the engine spoke plain HTTP at pairing
    }
    assert load(tmp_path / "data") == PAIRED
    assert os.listdir(tmp_path / "data") == [CREDENTIALS_FILE]  # no temporary file left


def test_the_file_is_private_from_creation_and_replaced_whole(tmp_path, monkeypatch):
    """Even with a permissive umask, nobody can open the token between create and chmod."""
    save(tmp_path, Credentials("rpy_old"))
    seen = []
    real_replace = os.replace

    def replace(source, target):
        seen.append((mode(source), json.loads(open(source).read())["token"], load(tmp_path).token))
        real_replace(source, target)

    monkeypatch.setattr(credentials.os, "replace", replace)
    old_umask = os.umask(0)
    try:
        save(tmp_path, PAIRED)
    finally:
        os.umask(old_umask)
    # The new file was complete and private before it took the old one's place.
    assert seen == [(0o600, "rpy_token-1", "rpy_old")]
    assert load(tmp_path) == PAIRED and mode(tmp_path / CREDENTIALS_FILE) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    save(tmp_path, PAIRED)

    def replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(credentials.os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        save(tmp_path, Credentials("rpy_new", "n", "s"))
    assert os.listdir(tmp_path) == [CREDENTIALS_FILE]
    assert load(tmp_path) == PAIRED


def test_no_file_means_no_credentials(tmp_path):
    assert load(tmp_path) is None
    assert load(tmp_path / "missing") is None


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'{"name": "n", "secret": "s"}',
        b'{"token": "with space"}',
        b'{"token": ""}',
        b'{"token": "t", "name": "n"}',
        b'{"token": "t", "name": "", "secret": ""}',
        b'{"token": "t", "name": 3, "secret": "s"}',
    ],
)
def test_a_corrupt_file_is_logged_and_treated_as_absent(tmp_path, content):
    (tmp_path / CREDENTIALS_FILE).write_bytes(content)
    with capturedLogs() as events:
        assert load(tmp_path) is None
    (event,) = [e for e in events if e["log_level"] == LogLevel.error]
    assert "this host will pair again" in event["log_format"]
    assert event["path"] == str(tmp_path / CREDENTIALS_FILE)


def test_an_unreadable_file_is_treated_as_absent(tmp_path):
    (tmp_path / CREDENTIALS_FILE).mkdir()
    with capturedLogs() as events:
        assert load(tmp_path) is None
    assert [e["log_level"] for e in events] == [LogLevel.error]


def test_a_token_only_file_written_by_an_admin_loads(tmp_path):
    (tmp_path / CREDENTIALS_FILE).write_text('{"token": "rpy_x"}')
    assert load(tmp_path) == Credentials("rpy_x")
    assert not load(tmp_path).checks_engine and PAIRED.checks_engine


def test_forgotten_credentials_are_kept_aside_and_never_loaded(tmp_path):
    save(tmp_path, PAIRED)
    revoked = forget(tmp_path)
    assert revoked == tmp_path / (CREDENTIALS_FILE + ".revoked")
    assert json.loads(revoked.read_text())["token"] == "rpy_token-1" and mode(revoked) == 0o600
    assert load(tmp_path) is None
    assert forget(tmp_path) is None


def test_the_representation_hides_token_and_secret():
    shown = repr(PAIRED) + str(PAIRED) + repr(Credentials("rpy_token-1"))
    assert "rpy_token-1" not in shown and "the-secret" not in shown
    assert "sensor-pi-1" in shown


def test_a_token_given_by_hand_wins_over_the_file_and_the_stored_credentials(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("\n  rpy_from-file \n")
    save(tmp_path / "data", PAIRED)
    assert hand_given() is None
    assert hand_given(token_file=token_file) == Credentials("rpy_from-file")
    assert hand_given(" rpy_given", token_file) == Credentials("rpy_given")
    assert initial(tmp_path / "data", "rpy_given") == Credentials("rpy_given")
    assert initial(tmp_path / "data", token_file=token_file) == Credentials("rpy_from-file")
    assert initial(tmp_path / "data") == PAIRED
    assert initial(tmp_path / "elsewhere") is None


def test_token_settings_validate_and_never_show_the_token(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("rpy_from-file\n")
    assert parse_token(" rpy_abc ") == "rpy_abc"
    assert parse_token_file(str(token_file)) == token_file
    for bad in ("", "two words", "tab\there", "é"):
        with pytest.raises(ValueError, match="expected a token"):
            parse_token(bad)
    with pytest.raises(ValueError, match="cannot read the token file"):
        parse_token_file(str(tmp_path / "missing"))
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ValueError, match="expected a token"):
        parse_token_file(str(tmp_path / "empty"))

    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Config:
        token: str | None = None
        token_file: object = None

    config = load_settings(Config, TOKEN_SETTINGS, {"RPYMOSTAT_TOKEN": "rpy_very-secret"})
    assert config.token == "rpy_very-secret"
    table = describe(TOKEN_SETTINGS, config)
    assert "rpy_very-secret" not in table and "(hidden)" in table
    assert "(hidden)" not in describe(TOKEN_SETTINGS, Config())
    with pytest.raises(ConfigError) as refused:
        load_settings(Config, TOKEN_SETTINGS, {"RPYMOSTAT_TOKEN": "rpy_very secret"})
    assert "very" not in str(refused.value) and "RPYMOSTAT_TOKEN=(hidden) is invalid" in str(refused.value)


def test_two_daemons_sharing_a_data_directory_keep_their_own_files(tmp_path):
    sensor, control = PAIRED, Credentials("rpy_control", "control-pi-1", "other-secret")
    save(tmp_path, sensor)
    save(tmp_path, control, "control-credentials.json")
    assert load(tmp_path) == sensor and load(tmp_path, "control-credentials.json") == control
    assert initial(tmp_path, file_name="control-credentials.json") == control
    assert forget(tmp_path, "control-credentials.json") == tmp_path / "control-credentials.json.revoked"
    assert load(tmp_path) == sensor and load(tmp_path, "control-credentials.json") is None
