"""The suite's version, in a module of its own so setup.py can read it without importing."""

__version__ = "0.1.0.dev0"
