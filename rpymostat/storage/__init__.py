"""Storage: one asynchronous interface (:mod:`.interface`), SQLite and MongoDB backends."""


def open_storage(config, reactor):
    """The backend ``config`` asks for, not yet opened: MongoDB for a ``db`` URL, else SQLite.

    Backends are imported here, on demand, so a host without txmongo can run
    the embedded default.
    """
    import zoneinfo

    if config.db:
        from rpymostat.storage.mongo import MongoStorage

        return MongoStorage(config.db, reactor, timezone=zoneinfo.ZoneInfo(config.timezone))
    from rpymostat.storage.sqlite import SQLiteStorage

    return SQLiteStorage(config.sqlite_path, reactor, timezone=zoneinfo.ZoneInfo(config.timezone))
