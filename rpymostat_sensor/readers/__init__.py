"""Sensor readers: one small interface, one module per kind of sensor.

Readers are entry points of the group ``rpymostat.sensors`` (built in:
``w1``, ``owfs``, ``sim``), so a third party can add one.
"""
