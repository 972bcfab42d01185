"""Deterministic pool of realistic PII values planted into messages and comments."""

from __future__ import annotations

import numpy as np

PII_KINDS: tuple[str, ...] = ("email", "phone", "card", "iban", "ipv4", "ipv6")
PER_KIND = 6

_FIRST = ("anna", "john", "maria", "li", "oliver", "sofia", "lucas", "emma", "noah", "mia")
_LAST = ("schmidt", "smith", "garcia", "dubois", "jansen", "silva", "brown", "muller")
_DOMAINS = ("example.com", "mail.example.org", "gmail.com", "outlook.com", "web.de", "proton.me")


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _luhn_complete(prefix: str) -> str:
    for check in "0123456789":
        if luhn_ok(prefix + check):
            return prefix + check
    raise AssertionError("unreachable")


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _iban(country: str, bban: str) -> str:
    moved = bban + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in moved)) % 97
    return f"{country}{check:02d}{bban}"


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, n))


def _letters(rng: np.random.Generator, n: int) -> str:
    return "".join(chr(65 + int(d)) for d in rng.integers(0, 26, n))


def _group4(s: str, sep: str) -> str:
    return sep.join(s[i : i + 4] for i in range(0, len(s), 4))


def _card(rng: np.random.Generator, i: int) -> str:
    kind = i % 3
    if kind == 0:
        raw = _luhn_complete("4" + _digits(rng, 14))
    elif kind == 1:
        raw = _luhn_complete("5" + str(int(rng.integers(1, 6))) + _digits(rng, 13))
    else:
        raw = _luhn_complete("37" + _digits(rng, 12))
        return f"{raw[:4]} {raw[4:10]} {raw[10:]}"
    return [raw, _group4(raw, " "), _group4(raw, "-")][i % 3 if kind else (i // 3) % 3]


def _iban_value(rng: np.random.Generator, i: int) -> str:
    country = ("DE", "GB", "FR", "NL", "ES", "DE")[i % 6]
    if country == "DE":
        bban = _digits(rng, 18)
    elif country == "GB":
        bban = _letters(rng, 4) + _digits(rng, 14)
    elif country == "FR":
        bban = _digits(rng, 10) + _letters(rng, 1) + _digits(rng, 10) + _digits(rng, 2)
    elif country == "NL":
        bban = _letters(rng, 4) + _digits(rng, 10)
    else:
        bban = _digits(rng, 20)
    iban = _iban(country, bban)
    return _group4(iban, " ") if i % 2 else iban


def _phone(rng: np.random.Generator, i: int) -> str:
    d = _digits(rng, 10)
    formats = (
        f"+44 20 7946 {d[:4]}",
        f"+1 (415) 555-{d[:4]}",
        f"+49 30 {d[:6]}",
        f"+33 1 {d[:2]} {d[2:4]} {d[4:6]} {d[6:8]}",
        f"+31 20 {d[:3]} {d[3:7]}",
        f"+55 11 9{d[:4]}-{d[4:8]}",
    )
    return formats[i % len(formats)]


def _email(rng: np.random.Generator, i: int) -> str:
    first = _FIRST[int(rng.integers(0, len(_FIRST)))]
    last = _LAST[int(rng.integers(0, len(_LAST)))]
    return f"{first}.{last}{int(rng.integers(1, 99))}@{_DOMAINS[i % len(_DOMAINS)]}"


def _ipv4(rng: np.random.Generator, i: int) -> str:
    a = (203, 198, 81, 92, 145, 37)[i % 6]
    b, c, d = (int(x) for x in rng.integers(1, 255, 3))
    return f"{a}.{b}.{c}.{d}"


def _ipv6(rng: np.random.Generator, i: int) -> str:
    groups = [f"{int(x):x}" for x in rng.integers(1, 65535, 4)]
    if i % 2:
        return f"2001:db8:{groups[0]}::{groups[1]}:{groups[2]}"
    return "2a02:" + ":".join(groups) + f":{int(rng.integers(1, 4095)):x}:1"


_MAKERS = {
    "email": _email,
    "phone": _phone,
    "card": _card,
    "iban": _iban_value,
    "ipv4": _ipv4,
    "ipv6": _ipv6,
}


def planted_pii(seed: int) -> dict[str, list[str]]:
    """Return the PII pool planted by ``generate(seed=seed)``, keyed by kind.

    Every value of the pool occurs verbatim in at least one user message or feedback comment of
    any run with at least ~40 user messages on its first day (values are planted round-robin).
    """
    rng = np.random.Generator(np.random.PCG64([seed, 7_777]))
    return {kind: [_MAKERS[kind](rng, i) for i in range(PER_KIND)] for kind in PII_KINDS}


def pii_flat(seed: int) -> list[tuple[str, str]]:
    pool = planted_pii(seed)
    return [(kind, v) for i in range(PER_KIND) for kind in PII_KINDS for v in [pool[kind][i]]]
