"""Each dirty-data kind the generator plants lands in quarantine under its reason,
or as a duplicate, with exact counts, and the reconciliation balances."""

from __future__ import annotations

import json
from datetime import date

from chatbatch_dev.generator import generate

from chatbatch.cli import main
from chatbatch.core.paths import Paths

# generator dirty kind -> quarantine reason code (None: valid data that must load)
KIND_TO_REASON = {
    "malformed_json": "malformed_json",
    "wrong_type": "bad_type",
    "missing_required": "missing_required_field",
    "bad_timestamp": "bad_timestamp",
    "invalid_enum": "invalid_enum",
    "invalid_utf8": "invalid_utf8",
    "truncated_gzip": "truncated_file",
}
VALID_KINDS = {"duplicate", "late_arrival", "schema_drift", "long_text"}


def test_dirty_kinds_map_to_reasons_and_reconciliation_balances(home: Paths, query) -> None:
    summary = generate(
        landing=home.landing,
        start=date(2026, 11, 1),
        days=4,
        conversations_per_day=120,
        seed=11,
        dirty_rate=0.02,
    ).to_dict()
    assert main(["nightly", "--date", "2026-11-30"]) == 0

    expected: dict[tuple[str, str], int] = {}
    for entity, kinds in summary["dirty"].items():
        for kind, count in kinds.items():
            assert kind in KIND_TO_REASON or kind in VALID_KINDS, kind
            if kind in KIND_TO_REASON and count:
                key = (entity, KIND_TO_REASON[kind])
                expected[key] = expected.get(key, 0) + count
    found = {
        (entity, reason): count
        for entity, reason, count in query(
            home.warehouse,
            "select entity, reason_code, count(*) from audit.quarantine_records group by 1, 2",
        )
    }
    assert found == expected
    assert len({reason for _, reason in found}) >= 6

    duplicates = dict(
        query(
            home.warehouse,
            "select entity, sum(duplicates) from audit.audit_load_reconciliation group by 1",
        )
    )
    for entity in ("messages", "events", "feedback"):
        assert duplicates[entity] == summary["dirty"][entity].get("duplicate", 0), entity

    unbalanced = query(
        home.warehouse,
        "select * from audit.audit_load_reconciliation where loaded + quarantined + duplicates <> lines_read",
    )
    assert unbalanced == []
    truncated = summary["truncated_gzip"]
    assert query(
        home.warehouse,
        "select lines_read, file_error from chatbatch.landing_files where file_path = ?",
        [truncated["file"]],
    ) == [(truncated["complete_lines"] + int(truncated["partial_line"]), "truncated_gzip")]
    print("quarantine by reason:", json.dumps({f"{e}/{r}": n for (e, r), n in found.items()}))
