"""The `?` → `%s` translation of the PostgreSQL engine, fuzzed: placeholders outside literals
become `%s`; literals, quoted names and comments keep their `?`; every `%` is doubled."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.engine.placeholders import PlaceholderError, to_pyformat
from tests.postgres import TEMPLATE, PostgresServer

_TEXT = st.text(alphabet="ab ?%-/*$'", max_size=12)


def _literal(body: str) -> str:
    return "'" + body.replace("'", "''") + "'"


def _quoted(body: str) -> str:
    return '"' + body.replace('"', '""') + '"'


# Pieces of SQL, each with what it must become: (sql, translated, placeholders).
_PIECES = st.one_of(
    st.just(("?", "%s", 1)),
    st.just(("%", "%%", 0)),
    st.just((" ", " ", 0)),
    st.just(("a", "a", 0)),
    st.just(("||", "||", 0)),
    _TEXT.map(lambda b: (_literal(b), _literal(b).replace("%", "%%"), 0)),
    st.text(alphabet="ab ?%", max_size=8).map(
        lambda b: (_quoted(b), _quoted(b).replace("%", "%%"), 0)
    ),
    st.text(alphabet="ab ?%'", max_size=8).map(
        lambda b: (f"-- {b}\n", f"-- {b}\n".replace("%", "%%"), 0)
    ),
    st.text(alphabet="ab ?%'", max_size=8).map(
        lambda b: (f"/* {b} */", f"/* {b} */".replace("%", "%%"), 0)
    ),
)


@given(st.lists(_PIECES, max_size=12))
def test_placeholders_outside_literals_only(pieces: list[tuple[str, str, int]]) -> None:
    sql = "".join(p[0] for p in pieces)
    assert to_pyformat(sql) == "".join(p[1] for p in pieces)


@given(st.text(max_size=40))
def test_any_text_translates_without_losing_a_character(sql: str) -> None:
    try:
        translated = to_pyformat(sql)
    except PlaceholderError:
        return
    # every % of the result starts a %% or a %s: undoing them gives the text back
    assert re.sub(r"%(.)", lambda m: "%" if m[1] == "%" else "?", translated) == sql
    assert translated.count("%s") <= sql.count("?")


def test_numbered_placeholders_are_refused() -> None:
    with pytest.raises(PlaceholderError):
        to_pyformat("SELECT ?1")


@pytest.fixture(scope="module")
def pg_connection(postgres_server: PostgresServer) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(postgres_server.url(TEMPLATE), autocommit=True) as conn:
        yield conn


_LITERAL_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=20
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(literal=_LITERAL_TEXT, values=st.lists(st.integers(-(2**31), 2**31), min_size=1, max_size=4))
def test_the_server_reads_literals_and_parameters_as_written(
    pg_connection: Any, literal: str, values: list[int]
) -> None:
    marks = ", ".join("?" for _ in values)
    row = pg_connection.execute(
        to_pyformat(f"SELECT {_literal(literal)}, {marks}"), values
    ).fetchone()
    assert tuple(row) == (literal, *values)
