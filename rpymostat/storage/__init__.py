"""Storage: one asynchronous interface (:mod:`.interface`), SQLite and MongoDB backends."""


def open_storage(config, reactor):
    """The backend ``config`` asks for, not yet opened: MongoDB for a ``db`` URL, else SQLite.

    Backends are imported here, on demand, so a host without txmongo can run
    the embedded default.
    """
    if config.db:
        from rpymostat.storage.mongo import MongoStorage

        return MongoStorage(config.db, reactor)
    from rpymostat.storage.sqlite import SQLiteStorage

    return SQLiteStorage(config.sqlite_path, reactor)
