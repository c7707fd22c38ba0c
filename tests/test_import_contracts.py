"""The import contracts name every engine module, so a new one cannot slip past them.

``.importlinter`` spells out what ``rpymostat.protocol`` and the daemons may
not import, module by module (import-linter cannot say "all of rpymostat
but the protocol").  A module added to the engine and forgotten there would
be importable by the daemons unnoticed; this test notices.
"""

import configparser
import pkgutil
from pathlib import Path

import pytest

import rpymostat

CONFIG = Path(__file__).resolve().parent.parent / ".importlinter"


def forbidden(contract):
    parser = configparser.ConfigParser()
    parser.read(CONFIG, encoding="utf-8")
    return set(parser[f"importlinter:contract:{contract}"]["forbidden_modules"].split())


@pytest.mark.parametrize("contract", ["protocol-stands-alone", "daemons-use-only-the-protocol"])
def test_everything_of_the_engine_but_the_protocol_is_forbidden(contract):
    engine = {f"rpymostat.{module.name}" for module in pkgutil.iter_modules(rpymostat.__path__)}
    assert forbidden(contract) == engine - {"rpymostat.protocol"}
