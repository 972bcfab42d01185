"""PII detection and redaction: the one implementation of the rules.

Used by dbt (as the DuckDB function ``redact_pii``, registered by the dbt-duckdb plugin
``chatbatch.transform.dbt_plugin`` and called through the ``redact_pii`` macro), by the labelled
corpus test and by the scan of the exports. Detected values are replaced by typed
placeholders:

=========  =================================================================
``[EMAIL]``  local@domain.tld
``[IBAN]``   2 letters, 2 check digits, 11-30 alphanumerics (grouped by 4 or not),
             accepted only when the ISO 13616 mod-97 checksum holds
``[CARD]``   13-19 digits (first 1-9), optionally grouped by spaces or dashes, accepted only
             when the Luhn checksum holds
``[IPV6]``   colon-hex candidates that ``ipaddress`` parses, or 6-8 groups led by a
             4-digit one (an address with a group missing, as people paste them)
``[IPV4]``   dotted quads with every octet 0-255
``[PHONE]``  international (``+CC`` or ``00CC``) with 8-15 digits, or national
             numbers with a trunk ``0`` or an ``(area)`` code and 9-12 digits
=========  =================================================================

Rules run in that order, each on the output of the previous one, so a card number is
never half-eaten as a phone number.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

import duckdb

PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "iban": "[IBAN]",
    "card": "[CARD]",
    "ipv6": "[IPV6]",
    "ipv4": "[IPV4]",
    "phone": "[PHONE]",
}

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IBAN = re.compile(
    r"\b[A-Z]{2}\d{2}(?:(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?|[A-Z0-9]{11,30})\b",
    re.IGNORECASE,
)
_CARD = re.compile(r"(?<![\w+])[1-9](?:[ -]?\d){12,18}(?![\w])")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)")
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)[1-9]\d{0,2}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]?\d{1,5}){1,5}(?!\w)"
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    s = candidate.replace(" ", "").upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _is_card(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


_IPV6_LIKE = re.compile(r"[0-9A-Fa-f]{4}(?::[0-9A-Fa-f]{1,4}){5,7}")


def _is_ipv6(match: str) -> bool:
    if match.count(":") < 2 or not re.search(r"[0-9A-Fa-f]", match):
        return False
    try:
        ipaddress.IPv6Address(match)
    except ValueError:
        # a mistyped address (a group missing, no "::") that still names a host: 6-8
        # groups led by a full one (2a02:…); MAC addresses (2-digit groups) are not
        return _IPV6_LIKE.fullmatch(match) is not None
    return True


def _is_phone(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    if re.match(r"\+|00[1-9]", match):
        return 8 <= len(digits) <= 15
    # national: a trunk 0 (then a non-zero digit) or an (area) code
    return re.match(r"0[1-9]|\(", match) is not None and 9 <= len(digits) <= 12


_RULES: list[tuple[str, re.Pattern[str], Callable[[str], bool]]] = [
    ("email", _EMAIL, lambda _: True),
    ("iban", _IBAN, iban_ok),
    ("card", _CARD, _is_card),
    ("ipv6", _IPV6, _is_ipv6),
    ("ipv4", _IPV4, lambda _: True),
    ("phone", _PHONE, _is_phone),
]


_MAYBE_PII = re.compile(r"[\d@:]")


def _longest_valid(candidate: str, check: Callable[[str], bool]) -> int:
    """Length of the longest prefix of `candidate`, cut at a separator, that passes
    `check` (0 if none): "ES91 2100 0418 4502 0005 1332 THAT" is the IBAN without THAT."""
    cuts = [len(candidate)] + [i for i in range(len(candidate) - 1, 0, -1) if candidate[i] in " -."]
    for cut in cuts:
        piece = candidate[:cut].rstrip(" -.")
        if piece and check(piece):
            return len(piece)
    return 0


def _substitute(text: str, kind: str, pattern: re.Pattern[str], check: Callable[[str], bool]) -> str:
    out: list[str] = []
    pos = 0
    for match in pattern.finditer(text):
        length = _longest_valid(match.group(0), check)
        if length:
            out += [text[pos : match.start()], PLACEHOLDERS[kind]]
            pos = match.start() + length
    out.append(text[pos:])
    return "".join(out)


def redact(text: str | None) -> str | None:
    """The text with every detected PII value replaced by its typed placeholder."""
    if text is None:
        return None
    if _MAYBE_PII.search(text) is None:  # every rule needs a digit, an @ or a colon
        return text
    for kind, pattern, check in _RULES:
        text = _substitute(text, kind, pattern, check)
    return text


def detect(text: str) -> set[str]:
    """The kinds of PII found in `text` (the placeholders its redaction introduces)."""
    redacted = redact(text) or ""
    return {
        kind
        for kind, placeholder in PLACEHOLDERS.items()
        if redacted.count(placeholder) > text.count(placeholder)
    }


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Make `redact_pii(varchar) -> varchar` callable in SQL on this DuckDB connection."""
    con.create_function("redact_pii", redact, ["VARCHAR"], "VARCHAR", side_effects=False)
