"""The web UI's pages, one Flask blueprint per module (``rpymostat_webui.app.VIEWS``)."""
