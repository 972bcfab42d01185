"""Render column arrays to JSON lines with DuckDB (fixed key order, vectorised)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

import chatbatch_dev.generator.catalog as C

from .day import TOOLS

MACROS = """
CREATE OR REPLACE MACRO ts_fmt(ms, off, fmt) AS
  strftime(make_timestamp((ms + CASE WHEN off = -9999 THEN 0 ELSE off END * 60000) * 1000), fmt)
  || CASE WHEN off = -9999 THEN 'Z' ELSE printf('%+03d:%02d', off // 60, abs(off) % 60) END;
CREATE OR REPLACE MACRO ts_ms(ms, off) AS ts_fmt(ms, off, '%Y-%m-%dT%H:%M:%S.%g');
CREATE OR REPLACE MACRO ts_s(ms, off) AS ts_fmt(ms, off, '%Y-%m-%dT%H:%M:%S');
"""


def lst(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ",".join("'" + s + "'" for s in items) + "]"


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": 2, "preserve_insertion_order": True})
    con.execute(MACROS)
    return con


@dataclass
class Lines:
    """Rendered lines: one contiguous UTF-8 buffer plus row offsets (n + 1)."""

    data: memoryview
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def chunk(self, i: int, j: int) -> bytes:
        return bytes(self.data[self.offsets[i] : self.offsets[j]])


def run_sql(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    cols: dict[str, np.ndarray],
    texts: list[str] | None = None,
    text_cols: tuple[str, ...] = (),
) -> Lines:
    arrays = {}
    for k, v in cols.items():
        if k in text_cols and texts is not None:
            idx = pa.array(v.astype(np.int32), mask=v < 0)
            arrays[k] = pa.DictionaryArray.from_arrays(idx, pa.array(texts, pa.string()))
        else:
            arrays[k] = pa.array(v)
    con.register("t", pa.table(arrays))
    try:
        arr = con.sql(sql).to_arrow_table().column(0).combine_chunks()
    finally:
        con.unregister("t")
    if len(arr) == 0:
        return Lines(memoryview(b""), np.zeros(1, dtype=np.int64))
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    return Lines(memoryview(bufs[2]), offsets.astype(np.int64))


def _id(prefix: str, ymd: str, col: str, width: int) -> str:
    return f"printf('{prefix}_{ymd}_%0{width}d', {col})"


def messages_sql(ymd: str) -> str:
    intents = lst([it.name for it in C.INTENTS])
    return f"""
SELECT concat(
  '{{"message_id":"', printf('ms_{ymd}_%07d_%03d', conv, pos),
  '","conversation_id":"', {_id("cv", ymd, "conv", 7)},
  '","role":"', {lst(C.ROLES)}[role + 1], '","sent_at":"', ts_ms(sent_ms, off), '"',
  CASE WHEN text IS NOT NULL THEN ',"text":' || to_json(text::VARCHAR) END,
  CASE WHEN intent >= 0 THEN ',"intent":{{"name":"' || {intents}[intent + 1]
       || '","confidence":' || printf('%.3f', conf) || '}}' END,
  CASE WHEN model >= 0 THEN ',"model":"' || {lst(C.MODELS)}[model + 1]
       || '","usage":{{"input_tokens":' || in_tok || ',"output_tokens":' || out_tok
       || '}},"latency_ms":' || latency END,
  CASE WHEN doc1 >= 0 THEN ',"retrieved_document_ids":[' || concat_ws(',',
       printf('"kb_%04d"', doc1 + 1),
       CASE WHEN doc2 >= 0 THEN printf('"kb_%04d"', doc2 + 1) END,
       CASE WHEN doc3 >= 0 THEN printf('"kb_%04d"', doc3 + 1) END) || ']' END,
  CASE WHEN sentiment >= 0 THEN ',"sentiment":{{"label":"' || {lst(C.SENTIMENTS)}[sentiment + 1]
       || '","score":' || printf('%.2f', sent_score) || '}}' END,
  ',"exported_at":"', ts_s(exp_ms, -9999), '"}}', chr(10)) AS line
FROM t"""


def events_sql(ymd: str) -> str:
    et = C.EVENT_TYPES
    return f"""
SELECT concat(
  '{{"event_id":"', {_id("ev", ymd, "seq", 8)},
  '","conversation_id":"', {_id("cv", ymd, "conv", 7)},
  '"', CASE WHEN msg_pos >= 0 THEN ',"message_id":"' || printf('ms_{ymd}_%07d_%03d', conv, msg_pos)
       || '"' END,
  ',"event_type":"', {lst(et)}[etype + 1], '","occurred_at":"', ts_ms(t, -9999), '","payload":',
  CASE etype
    WHEN {et.index("fallback")} THEN
      '{{"reason":"' || {lst(C.FALLBACK_REASONS)}[a + 1] || '"}}'
    WHEN {et.index("tool_call")} THEN
      '{{"tool":"' || {lst(TOOLS)}[a + 1] || '","success":' || CASE WHEN b = 1 THEN 'true'
      ELSE 'false' END || ',"duration_ms":' || c || ',"error_code":' || CASE WHEN e >= 0 THEN
      '"' || {lst(C.TOOL_ERRORS)}[e + 1] || '"' ELSE 'null' END || '}}'
    WHEN {et.index("retrieval")} THEN
      '{{"document_ids":[' || concat_ws(',', printf('"kb_%04d"', d1 + 1),
        CASE WHEN d2 >= 0 THEN printf('"kb_%04d"', d2 + 1) END,
        CASE WHEN d3 >= 0 THEN printf('"kb_%04d"', d3 + 1) END) || '],"scores":['
      || concat_ws(',', printf('%.3f', s1), CASE WHEN d2 >= 0 THEN printf('%.3f', s2) END,
        CASE WHEN d3 >= 0 THEN printf('%.3f', s3) END) || ']}}'
    WHEN {et.index("error")} THEN '{{"error_code":"' || {lst(C.ERROR_CODES)}[e + 1] || '"}}'
    WHEN {et.index("handoff_requested")} THEN
      '{{"reason":"' || {lst(C.HANDOFF_REASONS)}[a + 1] || '"}}'
    WHEN {et.index("handoff_completed")} THEN printf('{{"agent_id":"agent_%03d"}}', a)
    WHEN {et.index("conversation_closed")} THEN
      '{{"end_reason":"' || {lst(C.END_REASONS)}[a + 1] || '"}}'
    ELSE '{{}}' END,
  ',"exported_at":"', ts_s(exp_ms, -9999), '"}}', chr(10)) AS line
FROM t"""


def feedback_sql(ymd: str) -> str:
    return f"""
SELECT concat(
  '{{"feedback_id":"', {_id("fb", ymd, "seq", 7)}, '","conversation_id":"',
  {_id("cv", ymd, "conv", 7)}, '"',
  CASE WHEN msg_pos >= 0 THEN ',"message_id":"' || printf('ms_{ymd}_%07d_%03d', conv, msg_pos)
       || '"' END,
  ',"kind":"', {lst(C.FEEDBACK_KINDS)}[kind + 1], '","value":',
  CASE WHEN kind = {C.FEEDBACK_KIND["comment"]} THEN 'null' ELSE value::VARCHAR END,
  CASE WHEN kind = {C.FEEDBACK_KIND["comment"]} THEN ',"comment":' || to_json(ctext::VARCHAR) END,
  ',"submitted_at":"', ts_s(t, off), '","exported_at":"', ts_s(exp_ms, -9999), '"}}',
  chr(10)) AS line
FROM t"""


def conversations_sql(ymd: str, run_ymds: list[str]) -> str:
    versions = [v for pair in C.BOT_VERSIONS for v in pair]
    return f"""
SELECT concat(
  '{{"conversation_id":"', {_id("cv", ymd, "conv", 7)}, '"',
  CASE WHEN u_day >= 0 THEN ',"user_id":"usr_' || {lst(run_ymds)}[u_day + 1]
       || printf('_%06d"', u_k) END,
  ',"channel":"', {lst(C.CHANNELS)}[channel + 1],
  '","locale":"', {lst([x[0] for x in C.LOCALES])}[locale + 1],
  '","bot_id":"', {lst(C.BOTS)}[bot + 1], '","bot_version":"', {lst(versions)}[bot * 2 + ver + 1],
  '","started_at":"', ts_s(start_ms, off), '"',
  CASE WHEN is_end THEN ',"ended_at":"' || ts_s(ended_ms, off) || '","end_reason":"'
       || {lst(C.END_REASONS)}[end_reason + 1] || '"' END,
  ',"attributes":{{', concat_ws(',',
       CASE WHEN app_version >= 0 THEN '"app_version":"' || {lst(C.APP_VERSIONS)}[app_version + 1]
            || '"' END,
       CASE WHEN utm >= 0 THEN '"utm_source":"' || {lst(C.UTM_SOURCES)}[utm + 1] || '"' END),
  '}}',
  CASE WHEN variant >= 0 THEN ',"experiment_variant":"' || {lst(C.EXPERIMENT_VARIANTS)}[variant + 1]
       || '"' END,
  ',"exported_at":"', ts_s(exp_ms, -9999), '"}}', chr(10)) AS line
FROM t"""


def users_sql(run_ymds: list[str]) -> str:
    return f"""
SELECT concat(
  '{{"user_id":"usr_', {lst(run_ymds)}[u_day + 1], printf('_%06d', u_k),
  '","created_at":"', ts_s(created_ms, -9999), '","segment":"', {lst(C.SEGMENTS)}[segment + 1],
  '","country":"', {lst([x[1] for x in C.LOCALES])}[locale + 1],
  '","exported_at":"', ts_s(exp_ms, -9999), '"}}', chr(10)) AS line
FROM t"""
