"""An independent check of the SQL: three headline metrics of one day, recomputed straight
from the landing files in plain Python (json and gzip only), match rpt_daily_performance
exactly for every channel, bot and bot-version group of the day.

The Python follows the written definitions (README, docs/export-contract.md, the docs
blocks of the marts), not the SQL:

* records: conversations keep the record with the latest `exported_at` per
  `conversation_id`; messages and events are one record per `message_id` / `event_id`;
* the conversation day is the UTC date of `started_at` (ISO-8601 with an offset or Z);
  every message and event of a conversation counts on its conversation's day;
* engaged = at least one user and at least one assistant message; escalated (outcome) =
  engaged and (a `handoff_requested` event or any `human_agent` message);
* conversations = count; containment rate = 1 - escalated / engaged;
  fallback rate = fallback events / assistant messages (null when a denominator is 0).

The landing set is clean (dirty_rate 0; quarantine is tested elsewhere), but the test
plants what the winner rules must handle: byte-identical redeliveries of messages and
events, and a later re-export of some conversations on another channel.
"""

from __future__ import annotations

import gzip
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from chatbatch_dev.generator import generate

from chatbatch.cli import main
from chatbatch.core.paths import Paths

DAY = date(2026, 11, 2)
PLANT_PARTITION = "export_date=2026-11-04"
PLANT_EXPORTED_AT = "2026-11-04T06:00:00Z"
RATE_TOLERANCE = 1e-12

Group = tuple[str, str, str]  # channel, bot_id, bot_version ('unknown' when absent)


def utc(text: str) -> datetime:
    """An ISO-8601 timestamp with `Z` or a numeric offset, as an aware UTC datetime."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"timestamp without offset: {text}"
    return parsed.astimezone(UTC)


def landing_files(landing: Path, entity: str) -> list[Path]:
    return sorted(
        path
        for path in (landing / entity).glob("export_date=*/*")
        if path.name.endswith((".jsonl", ".jsonl.gz"))
    )


def read_records(landing: Path, entity: str) -> Iterator[dict]:
    for path in landing_files(landing, entity):
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        for line in raw.decode("utf-8").splitlines():
            if line.strip():
                yield json.loads(line)


def latest_by_key(records: Iterator[dict], key: str) -> dict[str, dict]:
    """One record per key: the latest `exported_at` wins (ties are identical duplicates)."""
    winners: dict[str, dict] = {}
    for record in records:
        current = winners.get(record[key])
        if current is None or utc(record["exported_at"]) > utc(current["exported_at"]):
            winners[record[key]] = record
    return winners


@dataclass
class GroupFigures:
    conversations: int = 0
    engaged: int = 0
    escalated: int = 0
    assistant_messages: int = 0
    fallback_events: int = 0

    @property
    def containment_rate(self) -> float | None:
        return None if self.engaged == 0 else 1 - self.escalated / self.engaged

    @property
    def fallback_rate(self) -> float | None:
        return None if self.assistant_messages == 0 else self.fallback_events / self.assistant_messages


def recompute_day(landing: Path, day: date) -> dict[Group, GroupFigures]:
    conversations = latest_by_key(read_records(landing, "conversations"), "conversation_id")
    messages = latest_by_key(read_records(landing, "messages"), "message_id")
    events = latest_by_key(read_records(landing, "events"), "event_id")

    roles: dict[str, Counter[str]] = {}
    for message in messages.values():
        roles.setdefault(message["conversation_id"], Counter())[message["role"]] += 1
    event_types: dict[str, Counter[str]] = {}
    for event in events.values():
        event_types.setdefault(event["conversation_id"], Counter())[event["event_type"]] += 1

    figures: dict[Group, GroupFigures] = {}
    for conversation_id, conversation in conversations.items():
        if utc(conversation["started_at"]).date() != day:
            continue
        group = (
            conversation["channel"],
            conversation["bot_id"],
            conversation.get("bot_version") or "unknown",
        )
        role_counts = roles.get(conversation_id, Counter())
        type_counts = event_types.get(conversation_id, Counter())
        engaged = role_counts["user"] >= 1 and role_counts["assistant"] >= 1
        escalated = type_counts["handoff_requested"] > 0 or role_counts["human_agent"] > 0
        totals = figures.setdefault(group, GroupFigures())
        totals.conversations += 1
        totals.engaged += int(engaged)
        totals.escalated += int(engaged and escalated)
        totals.assistant_messages += role_counts["assistant"]
        totals.fallback_events += type_counts["fallback"]
    return figures


def plant_winner_cases(landing: Path, day: date) -> tuple[int, int, list[str]]:
    """Redeliver some message and event lines byte for byte, and re-export three of the
    day's conversations later on another channel. Returns what was planted."""
    prefix = f"cv_{day:%Y%m%d}_"
    planted = []
    for entity in ("messages", "events"):
        lines = [
            line
            for path in landing_files(landing, entity)
            for line in gzip.decompress(path.read_bytes()).splitlines()
            if f'"conversation_id":"{prefix}'.encode() in line
        ]
        chosen = [line for line in lines if b'"fallback"' in line or b'"handoff_requested"' in line][:15]
        chosen += lines[:: max(1, len(lines) // 25)][:25]
        target = landing / entity / PLANT_PARTITION / "redelivery-from-test.jsonl.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.compress(b"\n".join(chosen) + b"\n", mtime=0))
        planted.append(len(chosen))

    conversations = latest_by_key(read_records(landing, "conversations"), "conversation_id")
    moved = sorted(key for key in conversations if key.startswith(prefix))[:3]
    lines = []
    for key in moved:
        record = dict(conversations[key], exported_at=PLANT_EXPORTED_AT)
        record["channel"] = "slack" if record["channel"] != "slack" else "voice"
        lines.append(json.dumps(record))
    target = landing / "conversations" / PLANT_PARTITION / "reexport-test.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return planted[0], planted[1], moved


def test_headline_metrics_recomputed_from_landing_match_daily_report(home: Paths, query) -> None:
    generate(
        landing=home.landing,
        start=date(2026, 11, 1),
        days=3,
        conversations_per_day=120,
        seed=17,
        dirty_rate=0.0,
    )
    redelivered_messages, redelivered_events, moved = plant_winner_cases(home.landing, DAY)
    assert redelivered_messages > 0 and redelivered_events > 0 and len(moved) == 3
    assert main(["nightly", "--date", "2026-11-10"]) == 0

    started = time.perf_counter()
    expected = recompute_day(home.landing, DAY)
    seconds = time.perf_counter() - started

    rows = query(
        home.analytics,
        """
        select
            channel, bot_id, bot_version,
            conversations, engaged_conversations, escalated_conversations,
            assistant_messages, fallback_events,
            containment_rate, escalation_rate, fallback_rate
        from marts.rpt_daily_performance
        where conversation_date = ?
        """,
        [DAY],
    )
    actual = {row[:3]: row[3:] for row in rows}
    assert len(expected) >= 8, "too few groups to be a meaningful check"
    assert set(actual) == set(expected)
    for group, figures in expected.items():
        conversations, engaged, escalated, assistant, fallback, containment, escalation, fallback_rate = (
            actual[group]
        )
        # counts: exact
        assert conversations == figures.conversations, group
        assert (engaged, escalated) == (figures.engaged, figures.escalated), group
        assert (assistant, fallback) == (figures.assistant_messages, figures.fallback_events), group
        # rates: 1e-12
        for name, value, want in (
            ("containment_rate", containment, figures.containment_rate),
            ("fallback_rate", fallback_rate, figures.fallback_rate),
        ):
            if want is None:
                assert value is None, (group, name)
            else:
                assert value is not None and abs(value - want) <= RATE_TOLERANCE, (group, name, value, want)
        if figures.containment_rate is not None:
            assert escalation is not None and abs(escalation - (figures.escalated / figures.engaged)) <= 1e-12

    day_total = sum(figures.conversations for figures in expected.values())
    print(f"recomputed {len(expected)} groups, {day_total} conversations of {DAY} in {seconds:.2f} s")
