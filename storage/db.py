"""The names repositories and callers used before the engines were split (storage/engine/).

`Database.open(path)` still opens a SQLite file; new code takes a `storage.engine.Database`
and opens it with `storage.engine.open_database`.
"""

from storage.engine.base import Row, Tx, dumps, from_db_time, to_db_time
from storage.engine.sqlite import SqliteDatabase as Database

__all__ = ["Database", "Row", "Tx", "dumps", "from_db_time", "to_db_time"]
