"""The decision loop and its effects: timers, relay commands over HTTP, stored states and runs.

It gathers each zone's inputs, asks the pure :mod:`rpymostat.decide` for a
decision, and carries it out: this package depends on ``decide``, never the
reverse, so everything that reads a clock, talks to a relay unit or writes
storage lives here and ``decide`` stays a set of pure functions.
"""
