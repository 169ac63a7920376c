"""What repositories see of a database, whichever engine is behind it.

Repositories write SQL once, with `?` placeholders, in the subset SQLite and PostgreSQL share;
the few spellings that differ come from the engine's `Dialect`. Nothing here imports an engine.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol, overload

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    # One encoder for all: json.dumps with options builds a new one per call (costly in bulk).
    return _ENCODER.encode(value)


def to_db_time(moment: datetime) -> str:
    """UTC text that sorts like the instants it names."""
    # isoformat writes the same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), several times faster.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@overload
def from_db_time(text: str, tz: tzinfo) -> datetime: ...
@overload
def from_db_time(text: str | None, tz: tzinfo) -> datetime | None: ...
def from_db_time(text: str | None, tz: tzinfo) -> datetime | None:
    if text is None:
        return None
    # fromisoformat reads what to_db_time writes ("Z" included) ~20x faster than strptime.
    return datetime.fromisoformat(text).replace(tzinfo=UTC).astimezone(tz)


def count_where(condition: str) -> str:
    """How many rows of a group meet `condition` (SQLite would sum booleans; PostgreSQL not)."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


class Row(Protocol):
    """A result row, read by position (`row[0]`, `Record(*row)`) or by column name."""

    def __getitem__(self, key: int | str | slice, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...
    def keys(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Done:
    """What one statement of a `Tx.batch` gave: rows changed, and rows returned (a query's)."""

    rowcount: int
    rows: list[Row] = field(default_factory=list)


Statement = tuple[str, Sequence[Any]]


class Tx(Protocol):
    """A handle on the database inside `Database.transaction()` or `Database.reading()`."""

    @property
    def dialect(self) -> Dialect: ...
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Rows changed."""

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """An INSERT into a table with an `id` column: the new row's id."""

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def stream(self, sql: str, params: Sequence[Any] = (), batch: int = 2000) -> AsyncIterator[Row]:
        """Rows of a large query, `batch` at a time, without holding them all in memory."""

    async def batch(self, statements: Sequence[Statement]) -> list[Done]:
        """Several statements in order, in as few trips as the engine can: one on SQLite."""

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A write whose outcome nobody reads: it goes with the next trip (at the latest the
        COMMIT), in order with the statements around it. Not for writes that may fail on purpose."""

    def defer_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """`defer` for an executemany."""


class Database(Protocol):
    @property
    def dialect(self) -> Dialect: ...
    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """One committed step: everything inside commits together or not at all."""

    def reading(self) -> AbstractAsyncContextManager[Tx]:
        """Reads (and writes that commit one by one) outside a step."""

    async def migrate(self) -> list[int]:
        """Apply the migrations not applied yet; the versions applied now."""

    async def close(self) -> None: ...
    async def pause_checkpoints(self) -> None:
        """A long run of deletes starts: the engine's own housekeeping may wait (SQLite's WAL
        checkpoints, which would otherwise run inside a batch's commit, under the write lock)."""

    async def checkpoint(self) -> None:
        """Housekeeping now, beside the steps (SQLite: a passive WAL checkpoint)."""

    async def resume_checkpoints(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """The few things the engines spell differently, as SQL fragments repositories paste in.

    Times are ISO-8601 UTC text (`to_db_time`); `column` arguments are SQL expressions.
    """

    name: str
    # `IN (...)` over the values of a JSON array passed as one parameter: texts, integers
    in_json_list: str
    in_json_integers: str
    # the greater of two values (SQLite's scalar MAX(a, b), PostgreSQL's GREATEST)
    greatest_fn: str
    # `strpos(haystack, needle)` > 0 on both: SQLite calls it instr
    position_fn: str
    # `text GLOB 'prefix*'` on SQLite (case-sensitive, uses the partial indexes), LIKE on PostgreSQL
    prefix_match: str  # formatted with column=, prefix= (a literal without wildcards)
    index_hint: str  # formatted with index=: SQLite's INDEXED BY, nothing on PostgreSQL
    # a column kept from SQLite's index choice (a unary +), as it is on PostgreSQL
    unindexed_sql: str  # formatted with column=
    minutes_between_sql: str  # formatted with start=, end=
    local_day_sql: str  # formatted with column=, minutes= (the zone's offset)
    local_text_sql: str  # "dd/mm/yyyy HH:MM" at the zone's offset: column=, minutes=
    json_text_sql: str  # a JSON object's member as text: column=, key= (a plain name)
    # the schema: tables (in the order they were made), a table's columns (one parameter)
    tables_sql: str
    columns_sql: str
    # after rows were copied with their ids: id sequences moved past them (None: not needed)
    resync_ids_sql: str | None
    # a lock across instances taken without waiting (one parameter: the lock's number; True if
    # taken) and its release. None: not needed, the engine runs write transactions one at a time
    try_lock_sql: str | None
    unlock_sql: str | None

    def greatest(self, *values: str) -> str:
        return f"{self.greatest_fn}({', '.join(values)})"

    def contains(self, haystack: str, needle: str) -> str:
        return f"{self.position_fn}({haystack}, {needle}) > 0"

    def starts_with(self, column: str, prefix: str) -> str:
        if any(c in prefix for c in "'%_*?[]\\"):
            raise ValueError(f"not a plain prefix: {prefix!r}")
        return self.prefix_match.format(column=column, prefix=prefix)

    def indexed_by(self, index: str) -> str:
        return self.index_hint.format(index=index)

    def unindexed(self, column: str) -> str:
        return self.unindexed_sql.format(column=column)

    def minutes_between(self, start: str, end: str) -> str:
        return self.minutes_between_sql.format(start=start, end=end)

    def local_day(self, column: str, offset_minutes: int) -> str:
        """The calendar day (YYYY-MM-DD) of a stored UTC time at a fixed offset."""
        return self.local_day_sql.format(column=column, minutes=f"{int(offset_minutes):+d}")

    def local_text(self, column: str, offset_minutes: int) -> str:
        return self.local_text_sql.format(column=column, minutes=f"{int(offset_minutes):+d}")

    def json_text(self, column: str, key: str) -> str:
        if not key.isidentifier():
            raise ValueError(f"not a plain member name: {key!r}")
        return self.json_text_sql.format(column=column, key=key)


SQLITE = Dialect(
    name="sqlite",
    in_json_list="IN (SELECT value FROM json_each(?))",
    in_json_integers="IN (SELECT value FROM json_each(?))",
    greatest_fn="MAX",
    position_fn="instr",
    prefix_match="{column} GLOB '{prefix}*'",
    index_hint="INDEXED BY {index}",
    unindexed_sql="+{column}",
    minutes_between_sql=(
        "((julianday(substr({end}, 1, 19)) - julianday(substr({start}, 1, 19))) * 1440)"
    ),
    local_day_sql="date(substr({column}, 1, 19), '{minutes} minutes')",
    local_text_sql="strftime('%d/%m/%Y %H:%M', substr({column}, 1, 19), '{minutes} minutes')",
    json_text_sql="json_extract({column}, '$.{key}')",
    tables_sql=(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name <> 'schema_migrations' ORDER BY rowid"
    ),
    columns_sql="SELECT name FROM pragma_table_info(?) ORDER BY cid",
    resync_ids_sql=None,  # an INTEGER PRIMARY KEY takes the largest id + 1 by itself
    try_lock_sql=None,  # its one write lock already runs transactions one after the other
    unlock_sql=None,
)

POSTGRES = Dialect(
    name="postgresql",
    in_json_list="IN (SELECT json_array_elements_text(CAST(? AS json)))",
    in_json_integers="IN (SELECT CAST(json_array_elements_text(CAST(? AS json)) AS BIGINT))",
    greatest_fn="GREATEST",
    position_fn="strpos",
    prefix_match="{column} LIKE '{prefix}%'",
    index_hint="",
    unindexed_sql="{column}",
    minutes_between_sql=(
        "(EXTRACT(EPOCH FROM (CAST({end} AS timestamptz) - CAST({start} AS timestamptz))) / 60)"
    ),
    local_day_sql=(
        "to_char(CAST({column} AS timestamptz) AT TIME ZONE 'UTC' "
        "+ interval '{minutes} minutes', 'YYYY-MM-DD')"
    ),
    local_text_sql=(
        "to_char(CAST({column} AS timestamptz) AT TIME ZONE 'UTC' "
        "+ interval '{minutes} minutes', 'DD/MM/YYYY HH24:MI')"
    ),
    json_text_sql="(CAST({column} AS json) ->> '{key}')",
    tables_sql=(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r' "
        "AND c.relname <> 'schema_migrations' ORDER BY c.oid"
    ),
    columns_sql=(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
    ),
    resync_ids_sql="""
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = current_schema() AND is_identity = 'YES' LOOP
        EXECUTE format(
            'SELECT setval(pg_get_serial_sequence(%L, %L), COALESCE(MAX(%I), 0) + 1, false) FROM %I',
            c.table_name, c.column_name, c.column_name, c.table_name);
    END LOOP;
END $$""",
    # a session advisory lock: released by unlock_sql, or when its connection drops
    try_lock_sql="SELECT pg_try_advisory_lock(?)",
    unlock_sql="SELECT pg_advisory_unlock(?)",
)
