"""RPyMostat web UI: phone, desktop and wall kiosk pages, a client of the engine's HTTP API only."""
