"""TLS: the engine listens on an ``ssl:`` endpoint string; daemons pin its certificate at pairing."""

import dataclasses
import datetime
import hashlib
import time

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.task import Clock

from rpymostat.auth import admin
from rpymostat.config import EngineConfig, from_environ
from rpymostat.protocol.browse import Engine
from rpymostat.protocol.client import JsonClient, Unreachable
from rpymostat.protocol.endpoints import certificate_fingerprint, is_tls, listen_endpoint
from rpymostat.protocol.pairing import Pairing
from rpymostat.protocol.pinning import Pins
from rpymostat.protocol.settings import ConfigError
from rpymostat.service import make_service

crypto = pytest.importorskip("cryptography.x509", reason="TLS needs rpymostat[tls]")


def self_signed(directory, name="engine"):
    """A self-signed certificate and key for 127.0.0.1, as a house's engine would have; its SHA-256."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path, hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


@pytest_twisted.async_yield_fixture
async def tls_engine(tmp_path):
    key, cert, fingerprint = self_signed(tmp_path)
    config = EngineConfig(
        api_host="127.0.0.1",
        data_dir=tmp_path / "data",
        advertise=False,
        listen=f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}",
    )
    service = make_service(config, reactor)
    service.startService()
    port = await service.when_ready()
    service.url = f"https://127.0.0.1:{port.getHost().port}/v1"
    service.fingerprint = fingerprint
    yield service
    await service.stopService()


@pytest_twisted.ensureDeferred
async def test_a_daemon_takes_any_certificate_until_it_has_a_pin_and_then_only_that_one(tls_engine):
    pins = Pins()
    client = JsonClient(reactor, timeout=5, pins=pins)
    try:
        assert (await client.request("GET", tls_engine.url + "/status")).code == 200
        assert pins.seen == tls_engine.fingerprint == certificate_fingerprint(tls_engine.config.listen)
    finally:
        await client.close()
    pinned = JsonClient(reactor, timeout=5, pins=Pins(lambda: tls_engine.fingerprint))
    other = JsonClient(reactor, timeout=5, pins=Pins(lambda: "0" * 64))
    try:
        assert (await pinned.request("GET", tls_engine.url + "/status")).code == 200
        with pytest.raises(Unreachable):
            await other.request("GET", tls_engine.url + "/status")
    finally:
        await pinned.close()
        await other.close()


@pytest_twisted.ensureDeferred
async def test_pairing_over_tls_keeps_the_certificate_it_saw_as_the_pin(tls_engine, tmp_path):
    clock = Clock()
    client = JsonClient(reactor, timeout=5, pins=Pins())
    pairing = Pairing(client, tls_engine.url, "pi-attic", "sensor", clock, tmp_path / "sensor", poll_interval=0.5)
    running = pairing.run()
    try:
        for _ in range(200):
            waiting = await admin.pending(tls_engine.storage, time.time())
            if waiting:
                break
            clock.advance(0.5)
            await _turn()
        await admin.approve_pairing(tls_engine.storage, time.time(), waiting[0].code)
        while not running.called:
            clock.advance(0.5)
            await _turn()
        credentials = await running
        assert credentials.fingerprint == tls_engine.fingerprint
    finally:
        pairing.stop()
        await client.close()


async def _turn():
    from twisted.internet.task import deferLater

    await deferLater(reactor, 0.01, lambda: None)


def test_an_advertised_tls_engine_is_reached_over_https():
    assert Engine("e", ("192.168.1.2",), 8443, "/v1", "1", tls=True).url == "https://192.168.1.2:8443/v1"
    assert Engine("e", ("192.168.1.2",), 8088, "/v1", "1").url == "http://192.168.1.2:8088/v1"


def test_the_listen_setting_takes_tcp_or_ssl_endpoints_only(tmp_path):
    assert from_environ({"RPYMOSTAT_LISTEN": "tcp:8088"}).listen == "tcp:8088"
    with pytest.raises(ConfigError, match="RPYMOSTAT_LISTEN"):
        from_environ({"RPYMOSTAT_LISTEN": "unix:/tmp/x"})
    assert is_tls("ssl:8443:privateKey=k") and not is_tls("tcp:8088") and not is_tls(None)
    with pytest.raises(ValueError, match="cannot listen on"):
        listen_endpoint(reactor, "ssl:8443:privateKey=/nonexistent.pem", "0.0.0.0", 0)
    assert certificate_fingerprint(f"ssl:8443:privateKey={tmp_path / 'missing.pem'}") is None
    assert certificate_fingerprint("ssl:8443") is None
    assert dataclasses.replace(EngineConfig(), listen=None).listen is None


def test_a_paired_link_pins_its_engines_certificate_and_a_hand_given_token_does_not(tmp_path):
    from rpymostat.protocol.credentials import Credentials, load, save
    from rpymostat.protocol.peer import EngineLink

    save(tmp_path, Credentials("rpy_token", "sensor-pi", "s" * 43, "ab" * 32))
    assert load(tmp_path).fingerprint == "ab" * 32
    paired = JsonClient(reactor)
    EngineLink(paired, Clock(), tmp_path, "pi", "sensor", engine_url=lambda: None)
    assert paired.pins.expected() == "ab" * 32
    by_hand = JsonClient(reactor)
    EngineLink(by_hand, Clock(), tmp_path, "pi", "sensor", engine_url=lambda: None, hand_given=Credentials("rpy_x"))
    assert by_hand.pins is None  # https checked against certificate authorities instead
    (tmp_path / "engine-credentials.json").write_text('{"token": "rpy_token", "fingerprint": "short"}')
    assert load(tmp_path) is None  # a file we did not write is not trusted
