"""``-v``/``-vv`` choose the log level of Twisted and stdlib loggers."""

import io
import logging

import pytest
from twisted.logger import LogLevel, LogPublisher

from rpymostat.protocol import daemon


@pytest.mark.parametrize(
    "verbosity, shown, hidden",
    [(0, LogLevel.warn, LogLevel.info), (1, LogLevel.info, LogLevel.debug), (2, LogLevel.debug, None)],
)
def test_verbosity_filters_levels(verbosity, shown, hidden):
    stream = io.StringIO()
    observer = daemon.log_observer(verbosity, stream)
    publisher = LogPublisher(observer)
    publisher({"log_level": shown, "log_format": "shown", "log_namespace": "t", "log_time": 0})
    if hidden is not None:
        publisher({"log_level": hidden, "log_format": "hidden", "log_namespace": "t", "log_time": 0})
    assert "shown" in stream.getvalue()
    assert "hidden" not in stream.getvalue()
    assert daemon.stdlib_level(verbosity) == (logging.WARNING, logging.INFO, logging.DEBUG)[verbosity]


def test_more_v_than_levels_is_debug():
    assert daemon.stdlib_level(5) == logging.DEBUG
