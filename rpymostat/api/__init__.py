"""The engine's HTTP API: a root Klein app with ``/v1`` mounted as a branch."""
