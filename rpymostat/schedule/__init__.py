"""Scheduling: rules (schedules, overrides, holds, zone defaults) turned into a timeline.

The rule in force is computed from the rules and the time, never from fired
actions, so a restart can neither lose nor repeat anything.
"""
