"""Deciding what the heating and cooling should do: plugins propose, the safety layer disposes.

Everything here is pure: a zone's state and the time in, a decision with a
reason a person can read out.  Nothing reads a clock or switches a relay.
"""
