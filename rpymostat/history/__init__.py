"""History over time: recording zones' decided state, pruning raw readings, planning and shaping queries.

Storage keeps the series (:mod:`rpymostat.storage.timeseries`); this
package decides what to keep when (:mod:`.recorder`, :mod:`.pruning`) and
how a question about a range of time becomes storage reads and an answer
(:mod:`.query`, :mod:`.answer`).  It speaks no HTTP: ``/v1/history`` is
:mod:`rpymostat.api.history_api`.
"""
