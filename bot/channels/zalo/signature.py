"""`X-ZEvent-Signature: mac=<hex>`: sha256 over the id, the raw body, the body's timestamp and
the OA secret key (plain SHA-256, not HMAC). Which id starts the string (the app's or the OA's)
is not settled by the sources, so both are tried until the first event that matches settles it."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping

log = logging.getLogger(__name__)

HEADER = "X-ZEvent-Signature"
ID_KINDS = ("app_id", "oa_id")


def mac(prefix_id: str, raw_body: bytes, timestamp: str, key: str) -> str:
    digest = hashlib.sha256()
    digest.update(prefix_id.encode())
    digest.update(raw_body)
    digest.update(timestamp.encode())
    digest.update(key.encode())
    return digest.hexdigest()


def body_timestamp(raw_body: bytes) -> str | None:
    """The body's `timestamp` field as text (it is signed as the string Zalo sent)."""
    try:
        body = json.loads(raw_body)
    except (ValueError, RecursionError):
        return None
    return timestamp_of(body)


def timestamp_of(body: object) -> str | None:
    if not isinstance(body, dict):
        return None
    value = body.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


def matching_id(
    header: str,
    raw_body: bytes,
    ids: Mapping[str, str],
    key: str,
    timestamp: str | None = None,
) -> str | None:
    """Which of `ids` (kind -> id) makes the header's mac, compared in constant time; None.
    `timestamp`: the body's, when the caller has read the body already."""
    given = header.strip()
    if given.lower().startswith("mac="):
        given = given[4:]
    if timestamp is None:
        timestamp = body_timestamp(raw_body)
    if timestamp is None or not key or not given:
        return None
    found = None
    for kind, prefix_id in ids.items():
        if not prefix_id:
            continue
        expected = mac(prefix_id, raw_body, timestamp, key)
        # every candidate is compared, so the time does not tell which one matched
        if hmac.compare_digest(given.lower().encode(), expected.encode()) and found is None:
            found = kind
    return found


class SignatureCheck:
    """Verifies events; `settled` is the id kind once known (a setting, or the first match,
    which `on_settled` records so that a restart keeps it)."""

    def __init__(
        self,
        app_id: str,
        oa_id: str,
        key: str,
        settled: str | None = None,
        on_settled: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._ids = {"app_id": app_id.strip(), "oa_id": oa_id.strip()}
        self._key = key
        self.settled = settled if settled in ID_KINDS else None
        self._on_settled = on_settled

    async def verify(self, header: str, raw_body: bytes, body: object = None) -> bool:
        """`body`: the raw body already read as JSON, if it was (else it is read here)."""
        ids = self._ids if self.settled is None else {self.settled: self._ids[self.settled]}
        timestamp = timestamp_of(body) if body is not None else None
        kind = matching_id(header, raw_body, ids, self._key, timestamp)
        if kind is None:
            return False
        if self.settled is None:
            self.settled = kind
            log.info(
                "Zalo webhook signature matched with the %s as its prefix; kept from now", kind
            )
            if self._on_settled is not None:
                await self._on_settled(kind)
        return True
