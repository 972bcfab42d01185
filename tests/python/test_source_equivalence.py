"""The same simulated conversations, written as contract v1 and as another source's files
(Langfuse export; OTel GenAI spans once ``models/staging/otel`` exists), each run through
one real nightly in its own home, give equal marts on every column both formats carry.

How rows are matched: ``chatbatch generate`` keeps the v1 conversation, user and bot ids
(scripts/chatbatch_dev/generator/formats.py), and the timestamps of the messages. Message
ids differ by format (Langfuse: ``<generation id>:in:<v1 position>`` / ``…:out``, OTel: span
ids), so a message is matched by ``(conversation_id, message_role, sent_at)`` and the other
format's message ids are translated to the v1 ids through that match (``MESSAGE_ID_COLUMNS``);
turns and tool calls are then matched by the translated message ids.

Which columns are compared: every column of the compared marts, except
* ``NOT_CARRIED_NULL``: the v1 field is one a format cannot carry (``formats.NOT_CARRIED``,
  docs/sources/*.md): the other home must show null;
* ``NOT_CARRIED_ZERO``: counts of events or messages a format cannot carry (fallback, handoff,
  resolution events; system and human-agent messages): the other home must show 0 / false;
* ``DERIVED``: columns computed from what a format cannot carry (the outcome from the
  resolution and handoff events, positions and firsts from the system greeting, ``ended_at``
  = last activity, ...): not compared, each with its reason.
Rows a format cannot carry (system messages, the turns answered by a human agent after a
handoff) exist only in the v1 home; every row of the other home has its v1 twin.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml
from chatbatch_dev.generator import generate
from chatbatch_dev.generator.formats import FORMATS, NOT_CARRIED, FormatOptions, sources_config

from chatbatch.accumulate import landing
from chatbatch.cli import main
from chatbatch.contract.sources import SourceConfig
from chatbatch.core.paths import PROJECT_DIR, Paths

START, DAYS, PER_DAY, SEED = date(2026, 11, 1), 2, 30, 5
OTEL_MODELS = PROJECT_DIR / "models" / "staging" / "otel"

# the sources.yml of each format's home (the names the generator writes; Makefile `demo` too)
SOURCES_YML: dict[str, dict] = {fmt: sources_config(fmt) for fmt in FORMATS}

# mart -> the columns that match a row of the other home to its v1 twin
KEYS: dict[str, tuple[str, ...]] = {
    "fct_conversations": ("conversation_id",),
    "fct_messages": ("conversation_id", "message_role", "sent_at"),
    "fct_turns": ("user_message_id",),
    "fct_tool_calls": ("conversation_id", "occurred_at", "tool_name"),
    "dim_users": ("user_id",),
    "dim_bots": ("bot_id",),
}
# message-id columns of the other home, translated to v1 ids before comparing
MESSAGE_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "fct_messages": ("message_id",),
    "fct_turns": ("turn_id", "user_message_id", "reply_message_id"),
    "fct_tool_calls": ("message_id",),
}
# ids a format mints itself (formats.py: OTel event and feedback ids are span-based), so they
# cannot equal v1's; the rows are still matched by KEYS and every other column compared
OWN_IDS: dict[str, dict[str, tuple[str, ...]]] = {"otel": {"fct_tool_calls": ("tool_call_id",)}}
# mart column -> (entity, v1 field) of formats.NOT_CARRIED: null in the other home
NOT_CARRIED_NULL: dict[str, dict[str, tuple[str, str]]] = {
    "fct_conversations": {
        "channel": ("conversations", "channel"),
        "locale": ("conversations", "locale"),
        "end_reason": ("conversations", "end_reason"),
        "first_intent": ("messages", "intent"),
        "main_intent": ("messages", "intent"),
        "main_intent_confidence": ("messages", "intent"),
        "experiment_variant": ("conversations", "experiment_variant"),
        "first_fallback_reason": ("event_types", "fallback"),
        "handoff_reason": ("event_types", "handoff_requested"),
    },
    "fct_messages": {
        "channel": ("conversations", "channel"),
        "intent_name": ("messages", "intent"),
        "intent_confidence": ("messages", "intent"),
        "sentiment_label": ("messages", "sentiment"),
        "sentiment_score": ("messages", "sentiment"),
        "fallback_reason": ("event_types", "fallback"),
        "handoff_reason": ("event_types", "handoff_requested"),
    },
    "fct_turns": {
        "channel": ("conversations", "channel"),
        "intent_name": ("messages", "intent"),
        "intent_confidence": ("messages", "intent"),
    },
    "fct_tool_calls": {"channel": ("conversations", "channel")},
    "dim_users": {
        "user_segment": ("users", "segment"),
        "country_code": ("users", "country"),
        "created_at": ("users", "created_at"),
    },
    "dim_bots": {},
}
# mart column -> (NOT_CARRIED key, the event type or message role counted): 0 / false
NOT_CARRIED_ZERO: dict[str, dict[str, tuple[str, str]]] = {
    "fct_conversations": {
        "fallback_event_count": ("event_types", "fallback"),
        "handoff_requested_event_count": ("event_types", "handoff_requested"),
        "resolution_confirmed_event_count": ("event_types", "resolution_confirmed"),
        "resolution_denied_event_count": ("event_types", "resolution_denied"),
        "has_fallback": ("event_types", "fallback"),
        "has_resolution_confirmed_event": ("event_types", "resolution_confirmed"),
        "has_resolution_denied": ("event_types", "resolution_denied"),
        "is_escalated": ("event_types", "handoff_requested"),
        "system_message_count": ("message_roles", "system"),
        "human_agent_message_count": ("message_roles", "human_agent"),
    },
    "fct_messages": {
        "fallback_event_count": ("event_types", "fallback"),
        "has_fallback": ("event_types", "fallback"),
        "has_handoff_requested": ("event_types", "handoff_requested"),
    },
    "fct_turns": {"is_reply_fallback": ("event_types", "fallback")},
}
FROM_EVENTS = "derived from the resolution / handoff / fallback events, which the format cannot carry"
FROM_MESSAGES = "counts or positions include the system greeting and human-agent messages (not carried)"
FROM_INTENT = "derived from the NLU intent confidence (not carried)"
DERIVED: dict[str, dict[str, str]] = {
    "fct_conversations": {
        "outcome": FROM_EVENTS,
        "is_resolution_confirmed": FROM_EVENTS + " (or a thumbs-up on the last answer)",
        "is_resolution_implied": FROM_EVENTS,
        "is_resolved": FROM_EVENTS,
        "is_abandoned": FROM_EVENTS,
        "resolution_component": FROM_EVENTS,
        "fallback_free_component": FROM_EVENTS,
        "quality_score": FROM_EVENTS,
        "low_confidence_turn_count": FROM_INTENT,
        "is_main_intent_low_confidence": FROM_INTENT,
        "message_count": FROM_MESSAGES,
        "user_message_count": FROM_MESSAGES + " (user turns after a handoff go to the human agent)",
        "turn_count": FROM_MESSAGES + " (user turns after a handoff go to the human agent)",
        "repeated_question_count": FROM_MESSAGES + " (user turns after a handoff)",
        "no_repetition_component": FROM_MESSAGES + " (user turns after a handoff)",
        "responsiveness_component": FROM_MESSAGES + " (turns answered by the human agent)",
        "last_message_role": FROM_MESSAGES,
        "session_count": FROM_MESSAGES + " (a greeting-only conversation has no carried message)",
        "first_message_at": FROM_MESSAGES + " (v1: the greeting)",
        "last_message_at": FROM_MESSAGES + " (v1: a human-agent reply)",
        "ended_at": "v1: the close time; Langfuse/OTel: the last activity (docs/sources/*.md)",
        "duration_seconds": "from ended_at (see there)",
    },
    "fct_messages": {
        "message_sequence": FROM_MESSAGES + " (v1 position 0 is the greeting)",
        "is_session_start": FROM_MESSAGES + " (v1 sessions start with the greeting)",
        "is_last_message": FROM_MESSAGES + " (v1: a human-agent reply may come last)",
    },
    "fct_turns": {
        "user_message_sequence": FROM_MESSAGES + " (v1 position 0 is the greeting)",
        "is_low_confidence": FROM_INTENT,
    },
    "dim_bots": {"channel_count": "from channel (not carried)"},
}
# rpt_daily_performance: v1 rows are per channel, the other home's under channel 'unknown';
# these additive columns, summed over channel, must be equal per (day, bot, bot version)
REPORT_ADDITIVE = (
    "conversations",
    "engaged_conversations",
    "conversations_with_user",
    "assistant_messages",
    "answered_turns",
    "csat_responses",
    "thumbs_up",
    "thumbs_down",
    "input_tokens",
    "output_tokens",
    "unpriced_messages",
    "cost_usd",
)
PROCESS_COLUMNS = {"_processed_batch_id"}


def build_home(root: Path, fmt: str) -> Path:
    """Generate the format's files into a fresh home, run one nightly over all of them."""
    home = root / fmt / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHATBATCH_HOME", str(home))
        paths = Paths.from_env()
        paths.export()
        home.mkdir(parents=True, exist_ok=True)
        (home / "sources.yml").write_text(yaml.safe_dump(SOURCES_YML[fmt]), encoding="utf-8")
        generate(
            landing=paths.landing,
            start=START,
            days=DAYS,
            conversations_per_day=PER_DAY,
            seed=SEED,
            dirty_rate=0.0,
            options=FormatOptions(format=fmt),
        )
        found = landing.discover(paths.landing, SourceConfig.load(home))
        # the Collector's live file (re-sends of the last messages) waits, by design, until
        # it is rotated; everything else must load
        live = [w for w in found.waiting if w.path.endswith("/traces.json")]
        assert not found.misfiled and found.waiting == live, (found.misfiled, found.waiting)
        last = max(f.export_date for f in found.files)
        assert main(["nightly", "--date", last.isoformat()]) == 0
    return home / "analytics.duckdb"


@pytest.fixture(scope="module")
def v1_marts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_home(tmp_path_factory.mktemp("equivalence"), "v1")


@pytest.fixture(
    scope="module",
    params=[
        "langfuse",
        pytest.param(
            "otel",
            marks=pytest.mark.skipif(
                not OTEL_MODELS.is_dir(), reason="OTel dbt models (models/staging/otel) not on main yet"
            ),
        ),
    ],
)
def pair(
    request: pytest.FixtureRequest, v1_marts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, duckdb.DuckDBPyConnection]]:
    fmt = request.param
    other = build_home(tmp_path_factory.mktemp("equivalence"), fmt)
    con = duckdb.connect()
    con.execute(f"attach '{v1_marts}' as v1 (read_only)")
    con.execute(f"attach '{other}' as other (read_only)")
    # the other home's message ids -> the v1 ids, through the natural key of a message
    con.execute(
        """
        create temp table message_map as
        select other.message_id as other_id, v1.message_id as v1_id
        from other.marts.fct_messages as other
        left join v1.marts.fct_messages as v1
            using (conversation_id, message_role, sent_at)
        """
    )
    yield fmt, con
    con.close()


def columns(con: duckdb.DuckDBPyConnection, mart: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'v1' and table_schema = 'marts' and table_name = ? order by ordinal_position",
        [mart],
    ).fetchall()


def translated(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    """The other home's mart with its message ids replaced by the v1 ids."""
    cols = []
    for name, _ in columns(con, mart):
        if name in MESSAGE_ID_COLUMNS.get(mart, ()):
            cols.append(f"(select v1_id from message_map where other_id = t.{name}) as {name}")
        else:
            cols.append(f"t.{name}")
    return f"(select {', '.join(cols)} from other.marts.{mart} as t)"


def value(name: str, data_type: str) -> str:
    return f"round({name}, 9)" if data_type in ("DOUBLE", "FLOAT") else name


@pytest.mark.parametrize("mart", list(KEYS))
def test_marts_equal_on_carried_columns(pair, mart: str) -> None:
    fmt, con = pair
    keys = KEYS[mart]
    other = translated(con, mart)
    on = " and ".join(f"v1_row.{k} = other_row.{k}" for k in keys)

    # every row of the other home has its v1 twin (v1 has more: rows the format cannot carry)
    orphans = con.execute(
        f"select count(*) from {other} as other_row "
        f"where not exists (select 1 from v1.marts.{mart} as v1_row where {on})"
    ).fetchone()[0]
    total = con.execute(f"select count(*) from other.marts.{mart}").fetchone()[0]
    assert total > 0 and orphans == 0, f"{mart}: {orphans} of {total} {fmt} rows have no v1 twin"
    unique = con.execute(
        f"select count(*) = count(distinct ({', '.join(keys)})) from {other} as other_row"
    ).fetchone()[0]
    assert unique, f"{mart}: key {keys} not unique in the {fmt} home"

    excluded = (
        set(keys)
        | set(NOT_CARRIED_NULL.get(mart, {}))
        | set(NOT_CARRIED_ZERO.get(mart, {}))
        | set(DERIVED.get(mart, {}))
        | set(OWN_IDS.get(fmt, {}).get(mart, ()))
        | PROCESS_COLUMNS
    )
    compared = [(n, t) for n, t in columns(con, mart) if n not in excluded]
    differing = {}
    for name, data_type in compared:
        v1_value, other_value = value(f"v1_row.{name}", data_type), value(f"other_row.{name}", data_type)
        row = con.execute(
            f"select count(*), any_value([{v1_value}::varchar, {other_value}::varchar]) "
            f"from v1.marts.{mart} as v1_row join {other} as other_row on {on} "
            f"where {v1_value} is distinct from {other_value}"
        ).fetchone()
        if row[0]:
            differing[name] = (row[0], row[1])
    assert not differing, f"{mart}: {fmt} differs from v1 on carried columns: {differing}"

    for name, (entity, field) in NOT_CARRIED_NULL.get(mart, {}).items():
        assert field in NOT_CARRIED[fmt][entity], f"{mart}.{name}: {entity}.{field} is carried by {fmt}"
        filled = con.execute(f"select count({name}) from other.marts.{mart}").fetchone()[0]
        assert filled == 0, f"{mart}.{name}: {filled} non-null values in the {fmt} home"
    for name, (kind, what) in NOT_CARRIED_ZERO.get(mart, {}).items():
        assert what in NOT_CARRIED[fmt][kind], f"{mart}.{name}: {what} is carried by {fmt}"
        nonzero = con.execute(
            f"select count(*) from other.marts.{mart} where coalesce(cast({name} as integer), 0) != 0"
        ).fetchone()[0]
        assert nonzero == 0, f"{mart}.{name}: {nonzero} rows not 0/false in the {fmt} home"


def test_every_carried_message_and_conversation_is_there(pair) -> None:
    """v1 rows missing from the other home are only the rows the format cannot carry."""
    fmt, con = pair
    assert con.execute("select count(*) from message_map where v1_id is null").fetchone()[0] == 0
    missing_conversations = con.execute(
        "select count(*) from v1.marts.fct_conversations "
        "where conversation_id not in (select conversation_id from other.marts.fct_conversations)"
    ).fetchone()[0]
    assert missing_conversations == 0
    missing = con.execute(
        """
        select message_role, count(*) filter (where conversation_id not in (
            select conversation_id from v1.marts.fct_messages where message_role = 'human_agent'))
        from v1.marts.fct_messages
        where message_id not in (select v1_id from message_map)
        group by 1 order by 1
        """
    ).fetchall()
    roles = {role for role, _ in missing}
    assert roles <= {"system", "human_agent", "user"}, missing
    # user messages are missing only in conversations a human agent took over
    assert all(count == 0 for role, count in missing if role == "user"), missing
    assert set(NOT_CARRIED[fmt]["message_roles"]) == {"system", "human_agent"}


def test_daily_report_equal_over_channels(pair) -> None:
    _, con = pair
    channels = con.execute("select distinct channel from other.marts.rpt_daily_performance").fetchall()
    assert channels == [("unknown",)]
    sums = ", ".join(f"round(sum({c}), 9) as {c}" for c in REPORT_ADDITIVE)
    query = (
        "select conversation_date, bot_id, bot_version, {sums} from {db}.marts.rpt_daily_performance "
        "group by all order by all"
    )
    v1_rows = con.execute(query.format(sums=sums, db="v1")).fetchall()
    other_rows = con.execute(query.format(sums=sums, db="other")).fetchall()
    assert v1_rows and other_rows == v1_rows
