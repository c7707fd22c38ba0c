"""The on-disk buffer of unsent readings, and the host id."""

from rpymostat.protocol.host_id import host_id
from rpymostat_sensor.buffer import ReadingBuffer
from rpymostat_sensor.readers.interface import SensorReading


def reading(value=20.5, **fields):
    return SensorReading("DS18B20", value, **fields)


def test_batches_hold_each_sensor_once_oldest_first(tmp_path):
    buffer = ReadingBuffer(tmp_path, limit=100)
    buffer.append([("28-a", reading(20.0), "T1"), ("28-b", reading(None, extra="crc"), "T1")])
    buffer.append([("28-a", reading(20.5, alias="hall"), "T2")])
    seqs, sensors = buffer.next_batch()
    assert sensors == {
        "28-a": {"type": "DS18B20", "value": 20.0, "timestamp": "T1"},
        "28-b": {"type": "DS18B20", "value": None, "timestamp": "T1", "extra": "crc"},
    }
    buffer.remove(seqs)
    seqs, sensors = buffer.next_batch()
    assert sensors == {"28-a": {"type": "DS18B20", "value": 20.5, "timestamp": "T2", "alias": "hall"}}
    buffer.remove(seqs)
    assert buffer.next_batch() == ([], {})
    assert len(buffer) == 0


def test_buffer_survives_a_restart(tmp_path):
    ReadingBuffer(tmp_path, limit=100).append([("28-a", reading(), "T1")])
    assert len(ReadingBuffer(tmp_path, limit=100)) == 1


def test_full_buffer_drops_the_oldest(tmp_path):
    buffer = ReadingBuffer(tmp_path, limit=3)
    for minute in range(5):
        assert buffer.append([("28-a", reading(minute), f"T{minute}")]) == (1 if minute >= 3 else 0)
    kept = []
    while True:
        seqs, sensors = buffer.next_batch()
        if not seqs:
            break
        kept.append(sensors["28-a"]["timestamp"])
        buffer.remove(seqs)
    assert kept == ["T2", "T3", "T4"]
    assert buffer.dropped == 2


def test_host_id_prefers_the_pi_serial(tmp_path):
    serial = tmp_path / "serial-number"
    serial.write_text("00000000abcdef01\x00")
    assert host_id(tmp_path, serial_file=serial, machine_id=tmp_path / "none") == "pi-00000000abcdef01"


def test_host_id_reads_cpuinfo_serial(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("Hardware\t: BCM2835\nSerial\t\t: 00000000c0ffee42\nModel\t: Pi Zero W\n")
    assert host_id(tmp_path, serial_file=tmp_path / "none", cpuinfo=cpuinfo) == "pi-00000000c0ffee42"


def test_host_id_falls_back_to_machine_id_then_a_stored_one(tmp_path):
    machine = tmp_path / "machine-id"
    machine.write_text("0123456789abcdef0123456789abcdef\n")
    missing = tmp_path / "none"
    assert host_id(tmp_path, missing, missing, machine) == "machine-0123456789abcdef0123456789abcdef"
    first = host_id(tmp_path / "data", missing, missing, missing)
    assert first.startswith("host-")
    assert host_id(tmp_path / "data", missing, missing, missing) == first
