"""``rpymostat-engine token`` and ``pair``: on the engine's own SQLite file, as an admin types them."""

import hashlib
import io
import os
import shutil
import subprocess
import time

import pytest
import pytest_twisted
from twisted.internet import reactor

from rpymostat.auth import admin, cli
from rpymostat.storage.sqlite import SQLiteStorage


@pytest.fixture
def environ(tmp_path):
    return {"RPYMOSTAT_DATA_DIR": str(tmp_path / "data")}


async def command(environ, *argv):
    out, err = io.StringIO(), io.StringIO()
    status = await cli.run(list(argv), environ, reactor, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


async def stored(tmp_path, what, *args):
    storage = SQLiteStorage(tmp_path / "data" / "rpymostat.sqlite3", reactor)
    await storage.open()
    try:
        return await getattr(storage, what)(*args)
    finally:
        await storage.close()


@pytest_twisted.ensureDeferred
async def test_token_create_prints_the_token_once_as_the_last_word_and_keeps_only_its_hash(environ, tmp_path):
    status, out, err = await command(environ, "token", "create", "--role", "sensor", "--name", "attic", "--host", "pi")
    assert (status, err) == (0, "")
    token = out.split()[-1]
    assert token.startswith("rpy_") and "attic" in out
    record = await stored(tmp_path, "token", "attic")
    assert (record.role, record.host_id) == ("sensor", "pi")
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    status, out, err = await command(environ, "token", "list")
    assert status == 0 and out.startswith("attic\tsensor\tpi\t") and token not in out
    status, out, err = await command(environ, "token", "create", "--role", "user", "--name", "attic")
    assert status == 1 and "exists" in err
    status, out, err = await command(environ, "token", "revoke", "attic")
    assert (status, out) == (0, "revoked token 'attic'\n")
    assert await stored(tmp_path, "tokens") == []
    status, out, err = await command(environ, "token", "revoke", "attic")
    assert status == 1 and "no token named 'attic'" in err


@pytest_twisted.ensureDeferred
async def test_pair_list_shows_code_host_role_and_age_and_approve_makes_the_daemons_token(environ, tmp_path):
    storage = SQLiteStorage(tmp_path / "data" / "rpymostat.sqlite3", reactor)
    await storage.open()
    try:
        now = time.time()
        await admin.request_pairing(storage, now - 42, "pi-attic", "sensor", "K7M2QX", "a" * 64, "s" * 43, "10.0.0.9")
    finally:
        await storage.close()
    status, out, err = await command(environ, "pair", "list")
    code, host_id, role, age, address, grants = out.rstrip("\n").split("\t")
    assert (status, code, host_id, role, address) == (0, "K7M2QX", "pi-attic", "sensor", "10.0.0.9")
    assert grants == "sends readings for its own host only"
    assert age in ("42 s", "43 s")
    status, out, err = await command(environ, "pair", "approve", "K7M2QX")
    assert (status, err, out) == (0, "", "approved: pi-attic pairs as token 'sensor-pi-attic' (sensor)\n")
    token = await stored(tmp_path, "token", "sensor-pi-attic")
    assert (token.token_hash, token.host_id, token.peer_secret) == ("a" * 64, "pi-attic", "s" * 43)
    assert (await command(environ, "pair", "list"))[1] == ""
    status, out, err = await command(environ, "pair", "approve", "K7M2QX")
    assert status == 1 and "no waiting pairing request has the code K7M2QX" in err
    status, out, err = await command(environ, "pair", "reject", "ZZZZZZ")
    assert status == 1


@pytest_twisted.ensureDeferred
async def test_a_web_uis_request_says_what_approving_it_grants_and_approving_admin_says_so(environ, tmp_path):
    storage = SQLiteStorage(tmp_path / "data" / "rpymostat.sqlite3", reactor)
    await storage.open()
    try:
        now = time.time()
        await admin.request_pairing(storage, now - 9, "webui-den", "admin", "ADM2NX", "a" * 64, "s" * 43, "10.0.0.7")
        await admin.request_pairing(storage, now, "webui-hall", "user", "USR2NX", "b" * 64, "t" * 43, "10.0.0.8")
    finally:
        await storage.close()
    status, out, err = await command(environ, "pair", "list")
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(r[0], r[1], r[2]) for r in rows] == [("ADM2NX", "webui-den", "admin"), ("USR2NX", "webui-hall", "user")]
    assert rows[0][5].startswith("FULL CONTROL (admin)") and rows[1][5].startswith("user rights")
    status, out, err = await command(environ, "pair", "approve", "ADM2NX")
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "approved: webui-den pairs as token 'admin-webui-den' (admin)",
        "this grants full control (admin) to webui-den: revoke 'admin-webui-den' to take it back",
    ]
    status, out, err = await command(environ, "pair", "approve", "USR2NX")
    assert (status, err, out) == (0, "", "approved: webui-hall pairs as token 'user-webui-hall' (user)\n")
    status, out, err = await command(environ, "token", "list")
    listed = sorted(line.split("\t")[:3] for line in out.splitlines())
    assert listed == [["admin-webui-den", "admin", "-"], ["user-webui-hall", "user", "-"]]  # bound to no host


@pytest_twisted.ensureDeferred
async def test_a_bad_setting_or_an_unusable_database_is_a_clear_error(environ, tmp_path):
    status, out, err = await command({**environ, "RPYMOSTAT_AUTH": "maybe"}, "token", "list")
    assert status == 2 and "RPYMOSTAT_AUTH" in err
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rpymostat.sqlite3").write_bytes(b"not a database" * 100)
    status, out, err = await command(environ, "token", "list")
    assert status == 1 and "cannot use SQLite database" in err


def test_the_installed_command_works_on_the_engines_data_dir(tmp_path):
    script = shutil.which("rpymostat-engine") or pytest.skip("rpymostat-engine is not installed")
    env = {**os.environ, "RPYMOSTAT_DATA_DIR": str(tmp_path / "data")}
    made = subprocess.run(
        [script, "token", "create", "--role", "read", "--name", "wall"], env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    listed = subprocess.run([script, "token", "list"], env=env, capture_output=True, text=True)
    assert listed.stdout.startswith("wall\tread\t-\t")
    assert made.stdout.split()[-1] not in listed.stdout + listed.stderr
    bad = subprocess.run([script, "token", "create", "--role", "owner", "--name", "x"], env=env, capture_output=True)
    assert bad.returncode == 2  # argparse: the role is not one of the choices


def test_the_engine_command_hands_token_and_pair_to_the_admin_commands(monkeypatch):
    from rpymostat import runner

    seen = []
    monkeypatch.setattr(cli, "main", lambda argv, environ: seen.append((argv, environ)) or 7)
    assert runner.main(["pair", "list"], {"RPYMOSTAT_DATA_DIR": "/x"}) == 7
    assert seen == [(["pair", "list"], {"RPYMOSTAT_DATA_DIR": "/x"})]
