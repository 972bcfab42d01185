"""The run history as a table for the terminal."""

from __future__ import annotations

from chatbatch.monitor.record import BatchRecord

COLUMNS = (
    ("batch", "batch_id", 5),
    ("command", "command", 8),
    ("run date", "run_date", 10),
    ("status", "status", 14),
    ("window", None, 23),
    ("files", "files", 6),
    ("read", "lines_read", 9),
    ("loaded", "loaded", 9),
    ("quar.", "quarantined", 7),
    ("dupl.", "duplicates", 7),
    ("late", "late_beyond_lookback", 5),
    ("secs", None, 7),
    ("started (UTC)", "started_at", 25),
)


def format_status(records: list[BatchRecord]) -> str:
    if not records:
        return "no batches recorded yet"
    header = "  ".join(f"{title:<{width}}" for title, _, width in COLUMNS)
    lines = [header, "-" * len(header)]
    for record in records:
        cells = []
        for title, key, width in COLUMNS:
            if title == "window":
                value = f"{record.window_start or '-'}..{record.window_end or '-'}"
            elif title == "secs":
                value = f"{record.seconds:.1f}"
            else:
                value = getattr(record, key)
                value = "-" if value is None else value
                value = f"{value:,}" if isinstance(value, int) and key != "batch_id" else value
            cells.append(f"{value!s:<{width}}")
        lines.append("  ".join(cells))
        if record.error:
            lines.append(f"      error: {record.error[:200]}")
    return "\n".join(lines)
