"""The pandas alternative: the headline figures of rpt_daily_performance as an analyst
would compute them in a notebook, straight from the landing files.

Same definitions as reference.sql (and the dbt models). Each file is read whole with
``pandas.read_json(lines=True)`` and cut down to the columns needed at once, the way a
careful analyst keeps a notebook within memory. pandas is a dev/bench dependency only.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

GRAIN = ["conversation_date", "channel", "bot_id", "bot_version"]
COLUMNS = {
    "conversations": [
        "conversation_id",
        "user_id",
        "channel",
        "bot_id",
        "bot_version",
        "started_at",
        "ended_at",
        "exported_at",
    ],
    "messages": ["message_id", "conversation_id", "role", "sent_at", "model", "usage", "exported_at"],
    "events": ["event_id", "conversation_id", "event_type", "exported_at"],
    "feedback": [
        "feedback_id",
        "conversation_id",
        "message_id",
        "kind",
        "value",
        "submitted_at",
        "exported_at",
    ],
}
TIMESTAMPS = ("started_at", "ended_at", "exported_at", "sent_at", "submitted_at")


def landing_files(landing: Path, entity: str, until: date) -> list[Path]:
    """The entity's landing files with export_date <= until, in a stable order."""
    files = []
    for folder in sorted((landing / entity).glob("export_date=*")):
        if date.fromisoformat(folder.name.split("=", 1)[1]) <= until:
            files += sorted(p for p in folder.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
    return files


def read_entity(landing: Path, entity: str, until: date) -> Any:
    """All lines of one entity as a DataFrame (needed columns only, timestamps in UTC)."""
    import pandas as pd

    frames = []
    for path in landing_files(landing, entity, until):
        frame = pd.read_json(path, lines=True, dtype=False, convert_dates=False)
        frames.append(frame.reindex(columns=COLUMNS[entity]))
    data = pd.concat(frames, ignore_index=True)
    for column in TIMESTAMPS:
        if column in data:
            parsed = pd.to_datetime(data[column], utc=True, format="ISO8601", errors="coerce")
            data[column] = parsed.dt.tz_localize(None)
    return data


def latest(frame: Any, key: str) -> Any:
    """One row per key: the latest export wins."""
    return frame.sort_values("exported_at", ascending=False, kind="stable").drop_duplicates(key)


def price_messages(messages: Any, prices_csv: Path) -> Any:
    """Each message's cost at the model price in force when it was sent."""
    import pandas as pd

    prices = pd.read_csv(prices_csv)
    prices["valid_from"] = pd.to_datetime(prices["valid_from"]).astype("datetime64[ns]")
    prices["model_name"] = prices["model_name"].astype("str")
    usage = messages["usage"]
    messages["input_tokens"] = usage.str.get("input_tokens").astype("float64")
    messages["output_tokens"] = usage.str.get("output_tokens").astype("float64")
    billed = messages[messages["model"].notna()][["message_id", "sent_at", "model"]]
    billed = billed.astype({"model": "str", "sent_at": "datetime64[ns]"}).sort_values("sent_at")
    priced = pd.merge_asof(
        billed,
        prices.sort_values("valid_from"),
        left_on="sent_at",
        right_on="valid_from",
        left_by="model",
        right_by="model_name",
        direction="backward",
    ).set_index("message_id")
    messages["cost_usd"] = (
        messages["input_tokens"] * messages["message_id"].map(priced["input_usd_per_1k_tokens"]) / 1000.0
        + messages["output_tokens"] * messages["message_id"].map(priced["output_usd_per_1k_tokens"]) / 1000.0
    )
    return messages


def message_facts(messages: Any, feedback: Any) -> tuple[Any, Any]:
    """Per-conversation message counts and signals, and the answered turns' latencies."""
    import pandas as pd

    thumbs = feedback[(feedback["kind"] == "thumbs") & feedback["message_id"].notna()]
    thumbs = thumbs.sort_values(["submitted_at", "feedback_id"], ascending=False).drop_duplicates(
        "message_id"
    )
    messages["thumbs"] = messages["message_id"].map(thumbs.set_index("message_id")["value"])
    messages = messages.sort_values(["conversation_id", "sent_at", "message_id"], kind="stable")
    by_conversation = messages.groupby("conversation_id", sort=False)
    role = messages["role"]
    assistant_sent = messages["sent_at"].where(role == "assistant")
    messages["reply_sent_at"] = assistant_sent.groupby(messages["conversation_id"]).shift(-1)
    messages["reply_sent_at"] = messages.groupby("conversation_id")["reply_sent_at"].bfill()
    turns = messages[(role == "user") & messages["reply_sent_at"].notna()]
    latency = (turns["reply_sent_at"] - turns["sent_at"]) // pd.Timedelta(milliseconds=1)
    turns = pd.DataFrame(
        {"conversation_id": turns["conversation_id"], "latency_ms": latency.astype("float64")}
    )
    last_role = (
        messages[role != "system"].groupby("conversation_id").tail(1).set_index("conversation_id")["role"]
    )
    last_assistant = messages[role == "assistant"].groupby("conversation_id").tail(1)
    facts = pd.DataFrame(
        {
            "user_message_count": (role == "user").groupby(messages["conversation_id"]).sum(),
            "assistant_message_count": (role == "assistant").groupby(messages["conversation_id"]).sum(),
            "human_agent_message_count": (role == "human_agent").groupby(messages["conversation_id"]).sum(),
            "cost_usd": by_conversation["cost_usd"].sum(min_count=1),
            "thumbs_down_count": (messages["thumbs"] == -1).groupby(messages["conversation_id"]).sum(),
            "last_message_at": by_conversation["sent_at"].max(),
        }
    )
    facts["last_message_role"] = last_role
    facts["has_last_assistant_thumbs_up"] = last_assistant.set_index("conversation_id")["thumbs"] == 1
    return facts, turns


def event_facts(events: Any) -> Any:
    """Per-conversation event counts of the types the outcome needs."""
    import pandas as pd

    wanted = ["fallback", "handoff_requested", "resolution_confirmed", "resolution_denied"]
    counts = pd.crosstab(events["conversation_id"], events["event_type"])
    return counts.reindex(columns=wanted, fill_value=0)


def latest_csat(feedback: Any) -> Any:
    csat = feedback[(feedback["kind"] == "csat") & feedback["value"].notna()]
    csat = csat.sort_values(["submitted_at", "feedback_id"], ascending=False).drop_duplicates(
        "conversation_id"
    )
    return csat.set_index("conversation_id")["value"].astype("float64")


def classify(conversations: Any) -> Any:
    """Recontact, engagement, escalation and the outcome of each conversation."""
    c = conversations.sort_values(["user_id", "started_at", "conversation_id"], kind="stable")
    next_started = c.groupby("user_id", dropna=True)["started_at"].shift(-1)
    activity_end = c["ended_at"].fillna(c["last_message_at"]).fillna(c["started_at"])
    c["is_recontacted"] = c["user_id"].notna() & (next_started <= activity_end + np.timedelta64(24, "h"))
    engaged = (c["user_message_count"] >= 1) & (c["assistant_message_count"] >= 1)
    escalated = (c["handoff_requested"] > 0) | (c["human_agent_message_count"] > 0)
    confirmed = (c["resolution_confirmed"] > 0) | c["has_last_assistant_thumbs_up"]
    negative = (c["thumbs_down_count"] > 0) | (c["csat_score"] <= 2)
    implied = (
        (c["last_message_role"] == "assistant")
        & (c["fallback"] == 0)
        & ~negative
        & (c["resolution_denied"] == 0)
        & ~c["is_recontacted"]
    )
    c["outcome"] = np.select(
        [~engaged, escalated, confirmed, implied],
        ["unengaged", "escalated", "resolved_confirmed", "resolved_implied"],
        default="abandoned",
    )
    c["is_engaged"] = engaged
    return c


def aggregate(c: Any, turns: Any) -> Any:
    """The daily report at its grain."""
    import pandas as pd

    c["conversation_date"] = c["started_at"].dt.date
    c["bot_version"] = c["bot_version"].fillna("unknown")
    c["is_escalated_outcome"] = c["outcome"] == "escalated"
    c["is_resolved"] = c["outcome"].isin(["resolved_confirmed", "resolved_implied"])
    groups = c.groupby(GRAIN)
    report = pd.DataFrame(
        {
            "conversations": groups.size(),
            "engaged_conversations": groups["is_engaged"].sum(),
            "escalated_conversations": groups["is_escalated_outcome"].sum(),
            "resolved_conversations": groups["is_resolved"].sum(),
            "fallback_events": groups["fallback"].sum(),
            "assistant_messages": groups["assistant_message_count"].sum(),
            "csat_avg": groups["csat_score"].mean(),
            "cost_usd": groups["cost_usd"].sum(min_count=1),
        }
    )
    engaged = report["engaged_conversations"].replace(0, np.nan)
    report["escalation_rate"] = report["escalated_conversations"] / engaged
    report["containment_rate"] = 1 - report["escalation_rate"]
    report["resolution_rate"] = report["resolved_conversations"] / engaged
    report["fallback_rate"] = report["fallback_events"] / report["assistant_messages"].replace(0, np.nan)
    turns = turns.merge(c[["conversation_id", *GRAIN]], on="conversation_id")
    quantiles = turns.groupby(GRAIN)["latency_ms"].quantile([0.5, 0.95]).unstack()
    report["latency_p50_ms"] = quantiles[0.5]
    report["latency_p95_ms"] = quantiles[0.95]
    return report.drop(columns=["fallback_events", "assistant_messages"]).reset_index()


def daily_report(landing: Path, until: date, out: Path, prices_csv: Path) -> int:
    """Compute the report with pandas and write it to Parquet; returns its rows."""
    conversations = latest(read_entity(landing, "conversations", until), "conversation_id")
    conversations["channel"] = conversations["channel"].str.strip().str.lower()
    known = set(conversations["conversation_id"])
    messages = latest(read_entity(landing, "messages", until), "message_id")
    messages = messages[messages["conversation_id"].isin(known)].copy()
    messages["role"] = messages["role"].str.strip().str.lower()
    events = latest(read_entity(landing, "events", until), "event_id")
    events = events[events["conversation_id"].isin(known)].copy()
    events["event_type"] = events["event_type"].str.strip().str.lower()
    feedback = latest(read_entity(landing, "feedback", until), "feedback_id")
    feedback["kind"] = feedback["kind"].str.strip().str.lower()
    feedback["value"] = feedback["value"].astype("float64")
    facts, turns = message_facts(price_messages(messages, prices_csv), feedback)
    table = (
        conversations.set_index("conversation_id")
        .join(facts)
        .join(event_facts(events))
        .join(latest_csat(feedback).rename("csat_score"))
    )
    counts = [
        "user_message_count",
        "assistant_message_count",
        "human_agent_message_count",
        "thumbs_down_count",
    ]
    counts += ["fallback", "handoff_requested", "resolution_confirmed", "resolution_denied"]
    table[counts] = table[counts].fillna(0)
    table["has_last_assistant_thumbs_up"] = (
        table["has_last_assistant_thumbs_up"].astype("boolean").fillna(False)
    )
    table = table.astype({"has_last_assistant_thumbs_up": bool}).reset_index()
    report = aggregate(classify(table), turns)
    report.to_parquet(out, index=False)
    return len(report)
