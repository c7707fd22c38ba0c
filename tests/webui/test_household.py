"""The household password, the one-time setup code and the session key on disk."""

import stat

import pytest

from rpymostat_webui.household import Household, PasswordRejected


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_ui_needs_setup_and_writes_a_private_code_once(tmp_path):
    household = Household(tmp_path)
    assert household.needs_setup
    code = household.setup_code()
    assert len(code) == 8 and code.isalnum() and code.upper() == code
    assert (tmp_path / "webui-setup-code").read_text().strip() == code
    assert mode(tmp_path / "webui-setup-code") == 0o600
    assert Household(tmp_path).setup_code() == code  # a restart keeps the code it logged
    assert not household.check("anything at all")


def test_setup_takes_the_code_in_any_case_with_spaces_and_then_it_is_gone(tmp_path):
    household = Household(tmp_path)
    code = household.setup_code()
    household.set_up(f" {code[:4].lower()}-{code[4:]} ", "a long password", "a long password")
    assert not household.needs_setup
    assert household.setup_code() is None
    assert not (tmp_path / "webui-setup-code").exists()
    assert mode(tmp_path / "webui-password") == 0o600
    assert "a long password" not in (tmp_path / "webui-password").read_text()  # a hash only
    assert Household(tmp_path).check("a long password")  # kept across restarts
    assert not Household(tmp_path).check("a long passwor")
    with pytest.raises(PasswordRejected, match="already set"):
        household.set_up(code, "another password", "another password")


@pytest.mark.parametrize(
    ("code_ok", "password", "repeated", "message"),
    [
        (False, "a long password", "a long password", "not the setup code"),
        (True, "short", "short", "at least 8 characters"),
        (True, "a long password", "a long passwort", "differ"),
    ],
)
def test_setup_refuses_a_wrong_code_or_a_bad_password(tmp_path, code_ok, password, repeated, message):
    household = Household(tmp_path)
    code = household.setup_code() if code_ok else "WRONGCOD"
    with pytest.raises(PasswordRejected, match=message):
        household.set_up(code, password, repeated)
    assert household.needs_setup
    assert (tmp_path / "webui-setup-code").exists()


def test_a_provisioned_password_needs_no_setup_and_cannot_be_changed_here(tmp_path):
    household = Household(tmp_path, provisioned="from puppet 123")
    assert household.provisioned and not household.needs_setup
    assert household.setup_code() is None
    assert household.check("from puppet 123")
    assert not household.check("from puppet 12")
    with pytest.raises(PasswordRejected, match="RPYMOSTAT_WEBUI_PASSWORD"):
        household.change("new password 1", "new password 1")
    assert not (tmp_path / "webui-password").exists()


def test_a_stored_password_can_be_changed(tmp_path):
    household = Household(tmp_path)
    household.set_up(household.setup_code(), "first password", "first password")
    household.change("second password", "second password")
    assert household.check("second password")
    assert not household.check("first password")


def test_the_session_key_is_made_once_private_and_kept(tmp_path):
    key = Household(tmp_path).session_key()
    assert len(key) == 32
    assert mode(tmp_path / "webui-session-key") == 0o600
    assert Household(tmp_path).session_key() == key


def test_the_session_key_is_read_once_so_a_deleted_file_changes_nothing_until_a_restart(tmp_path):
    household = Household(tmp_path, provisioned="a house password")
    key, mark = household.session_key(), household.generation()
    (tmp_path / "webui-session-key").unlink()
    assert household.session_key() == key and household.generation() == mark
    assert not (tmp_path / "webui-session-key").exists()
    assert Household(tmp_path, provisioned="a house password").session_key() != key  # the next start
