"""PII detection and redaction: the one implementation of the rules.

Used by dbt (as the DuckDB function ``redact_pii``, registered by the dbt-duckdb plugin
``chatbatch.transform.dbt_plugin`` and called through the ``redact_pii`` macro; on Spark the
same :func:`redact`, row by row), by the labelled corpus test and by the scan of the exports.
Detected values are replaced by typed placeholders:

===========  ===============================================================================
``[EMAIL]``  local@domain.tld
``[IBAN]``   2 letters, 2 check digits, 11-30 alphanumerics (grouped by 4 or not), accepted
             when ``stdnum.iban`` validates it (ISO 13616 mod-97 and the country's BBAN
             length and shape; national check digits are not required)
``[CARD]``   13-19 digits, optionally grouped by spaces or dashes, accepted when the Luhn
             checksum holds (``stdnum.luhn``)
``[IPV6]``   colon-hex candidates that ``ipaddress`` parses, or 6-8 groups led by a
             4-digit one (an address with a group missing, as people paste them)
``[IPV4]``   dotted quads that ``ipaddress`` parses, unless a version (``v``, ``version``,
             ``build``, ``firmware``… right before it, or more parts after it)
``[PHONE]``  numbers libphonenumber's ``PhoneNumberMatcher`` finds in running text for any
             of :data:`PHONE_REGIONS`: with ``+`` when the length fits the country; else
             valid numbers written with ``00``, a trunk ``0`` or an ``(area)`` code, or
             grouped as the country groups them (``415.555.0147``). An unbroken
             ``4155550147`` reads as an order or ticket number and stays, dates stay
===========  ===============================================================================

Rules run in that order, each on the output of the previous one, so a card number is never
half-eaten as a phone number. Personal names and postal addresses are not detected: no library
does it offline without downloading a language model (presidio and spaCy need one).

Speed: a text that :data:`MAYBE_PII` does not match cannot hold any of the kinds above and is
returned as is. DuckDB calls :func:`redact_arrow` once per vector (``type='arrow'``): the
prefilter runs in Arrow's C++ regex engine over the whole vector, and Python sees only the
rows that match it, each distinct text once (cached).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache

import duckdb
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from stdnum import iban as stdnum_iban
from stdnum import luhn as stdnum_luhn
from stdnum.exceptions import ValidationError

PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "iban": "[IBAN]",
    "card": "[CARD]",
    "ipv6": "[IPV6]",
    "ipv4": "[IPV4]",
    "phone": "[PHONE]",
}

# the generator's locales (chatbatch_dev/generator/catalog.py LOCALES): national numbers are
# read as any of these countries would write them
PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "ES", "BR", "NL")

# A necessary condition for any rule (written for both Python's re and Arrow's RE2): an @, two
# letters then two digits (IBAN), six digits with short separators between them (card, phone),
# a dotted quad (IPv4) or two colons around at most 4 hex digits (IPv6).
MAYBE_PII = (
    r"@|[A-Za-z]{2}\d{2}|\d(?:[ .()/-]{0,3}\d){5}|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|:[0-9A-Fa-f]{0,4}:"
)
_MAYBE_PII = re.compile(MAYBE_PII)

_EMAIL = re.compile(r"(?<![\w.+'-])[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IBAN = re.compile(
    r"\b[A-Z]{2}\d{2}(?:(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?|[A-Z0-9]{11,30})\b",
    re.IGNORECASE,
)
_CARD = re.compile(r"(?<![\w+])[1-9](?:[ -]?\d){12,18}(?![\w])")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_IPV6_LIKE = re.compile(r"[0-9A-Fa-f]{4}(?::[0-9A-Fa-f]{1,4}){5,7}")
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|[.-]\w)")
# "firmware 1.0.4.2", "version 2.4.1.0": a dotted quad right after these words is a version
_VERSION_WORD = re.compile(r"(?:\b(?:v|ver|version|build|firmware|release|rev)\.?:?\s*)$", re.IGNORECASE)
_NON_DIGIT = re.compile(r"\D")


def luhn_ok(digits: str) -> bool:
    return stdnum_luhn.is_valid(digits)


def iban_ok(candidate: str) -> bool:
    try:
        stdnum_iban.validate(candidate, check_country=False)
    except ValidationError:
        return False
    return True


def _is_card(match: str) -> bool:
    digits = _NON_DIGIT.sub("", match)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


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


def _is_ipv4(match: str) -> bool:
    try:
        ipaddress.IPv4Address(match)
    except ValueError:
        return False
    return True


_RULES: list[tuple[str, re.Pattern[str], Callable[[str], bool]]] = [
    ("email", _EMAIL, lambda _: True),
    ("iban", _IBAN, iban_ok),
    ("card", _CARD, _is_card),
    ("ipv6", _IPV6, _is_ipv6),
    ("ipv4", _IPV4, _is_ipv4),
]


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
        if kind == "ipv4" and _VERSION_WORD.search(text, max(0, match.start() - 12), match.start()):
            continue
        length = _longest_valid(match.group(0), check)
        if length:
            out += [text[pos : match.start()], PLACEHOLDERS[kind]]
            pos = match.start() + length
    out.append(text[pos:])
    return "".join(out)


_LENIENCY = phonenumbers.Leniency
_DATE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}|\d{4}([./-])\d{1,2}\2\d{1,2}")
_PHONE_DIGITS = re.compile(r"\d(?:\D{0,3}\d){5}")  # libphonenumber's matches here hold 6 digits or more


def _found_in(raw: str, region: str, leniency: phonenumbers.Leniency) -> bool:
    return any(True for _ in phonenumbers.PhoneNumberMatcher(raw, region, leniency=leniency))


def _is_phone(raw: str, region: str) -> bool:
    """Whether a number libphonenumber found in running text (as a possible number of
    `region`) is a phone: with a ``+`` when its length fits the country (a typo or an
    unassigned range is still someone's number); otherwise a valid number written with
    ``00``, a trunk ``0`` or an ``(area)`` code, or else grouped as `region` groups its numbers
    (``415.555.0147``); never a bare run of digits (those read as order, ticket or customer
    numbers) nor a date."""
    if raw.startswith("+"):
        return True
    if (raw.isdigit() and not raw.startswith("0")) or _DATE.fullmatch(raw):
        return False
    if not _found_in(raw, region, _LENIENCY.VALID):
        return False
    return raw[0] in "0(" or _found_in(raw, region, _LENIENCY.STRICT_GROUPING)


def _phone_spans(text: str) -> list[tuple[int, int]]:
    """Spans of phone numbers in `text`, read as each region would write them. A region runs
    only while some 6-digit stretch is not yet claimed by an international number (found by
    the first region already)."""
    spans: list[tuple[int, int]] = []
    rest = text
    for region in PHONE_REGIONS:
        if not _PHONE_DIGITS.search(rest):
            break
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=_LENIENCY.POSSIBLE):
            raw, start = match.raw_string, match.start
            if raw.startswith("(") and raw.count("(") > raw.count(")"):
                raw, start = raw[1:], start + 1  # "(+1 415 555 0147)": the bracket is the text's
            if not _is_phone(raw, region):
                continue
            spans.append((start, match.end))
            if raw.startswith("+"):
                rest = rest[:start] + " " * (match.end - start) + rest[match.end :]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _substitute_phones(text: str) -> str:
    out: list[str] = []
    pos = 0
    for start, end in _phone_spans(text):
        out += [text[pos:start], PLACEHOLDERS["phone"]]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _redact_candidate(text: str) -> str:
    for kind, pattern, check in _RULES:
        text = _substitute(text, kind, pattern, check)
    return _substitute_phones(text)


_redact_cached = lru_cache(maxsize=1 << 16)(_redact_candidate)
_CACHE_MAX_CHARS = 2_000  # longer texts (pasted logs) are rare and would fill the cache


def _redact_text(text: str) -> str:
    return _redact_cached(text) if len(text) <= _CACHE_MAX_CHARS else _redact_candidate(text)


def clear_cache() -> None:
    """Forget the texts redacted so far (the bench measures each way from a cold cache)."""
    _redact_cached.cache_clear()


def redact(text: str | None) -> str | None:
    """The text with every detected PII value replaced by its typed placeholder."""
    if text is None or _MAYBE_PII.search(text) is None:
        return text
    return _redact_text(text)


def redact_arrow(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """:func:`redact` over a whole Arrow array: the prefilter runs vectorised, Python only on
    the rows it matches."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    mask = pc.fill_null(pc.match_substring_regex(texts, MAYBE_PII), False)
    if not pc.any(mask).as_py():
        return texts
    redacted = [_redact_text(text) for text in pc.filter(texts, mask).to_pylist()]
    return pc.replace_with_mask(texts, mask, pa.array(redacted, type=texts.type))


def detect(text: str) -> set[str]:
    """The kinds of PII found in `text` (the placeholders its redaction introduces)."""
    redacted = redact(text) or ""
    return {
        kind
        for kind, placeholder in PLACEHOLDERS.items()
        if redacted.count(placeholder) > text.count(placeholder)
    }


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Make `redact_pii(varchar) -> varchar` callable in SQL on this DuckDB connection (an
    Arrow UDF: one Python call per vector of rows)."""
    con.create_function("redact_pii", redact_arrow, ["VARCHAR"], "VARCHAR", type="arrow", side_effects=False)
