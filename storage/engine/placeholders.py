"""Repositories write `?` placeholders (SQLite's); psycopg wants `%s`, and `%` doubled.

The translation skips what is not SQL text: string literals ('it''s ?'), quoted identifiers,
comments and dollar-quoted bodies keep their `?`; a `%` anywhere is doubled, since psycopg reads
every `%` of a query that has parameters.
"""

from __future__ import annotations

import re
from functools import lru_cache

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


class PlaceholderError(ValueError):
    """SQL the translation cannot carry over faithfully (numbered `?1` placeholders)."""


@lru_cache(maxsize=4096)
def to_pyformat(sql: str) -> str:
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "?":
            if i + 1 < n and sql[i + 1].isdigit():
                raise PlaceholderError(f"numbered placeholder at {i}: write one ? per value")
            out.append("%s")
            i += 1
        elif c == "%":
            out.append("%%")
            i += 1
        elif c in "'\"":
            end = _closing_quote(sql, i, c)
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "$" and (tag := _DOLLAR_TAG.match(sql, i)) and not _in_word(sql, i):
            end = sql.find(tag.group(0), tag.end())
            end = n if end < 0 else end + len(tag.group(0))
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        else:
            j = i + 1
            while j < n and sql[j] not in "?%'\"-/$":
                j += 1
            out.append(sql[i:j])
            i = j
    return "".join(out)


def _closing_quote(sql: str, start: int, quote: str) -> int:
    """The index just past the literal opened at `start` (a doubled quote stays inside)."""
    i = start + 1
    while True:
        end = sql.find(quote, i)
        if end < 0:
            return len(sql)
        if end + 1 < len(sql) and sql[end + 1] == quote:
            i = end + 2
            continue
        return end + 1


def _in_word(sql: str, i: int) -> bool:
    return i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")
