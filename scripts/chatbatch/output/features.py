"""The nightly ``user_features`` workload: the latest user features for online serving.

Exports, from ``features.feat_user_daily`` in the working warehouse, each user's
features as of the night's run date (the row valid on that day, with
``days_since_last_conversation`` counted to that day) to
``Paths.features_export`` (``exports/features/``): ``user_latest.parquet`` with ``manifest.json``.
Rows are ordered by user, so the same night always gives the same bytes, and the
files are rewritten only when they change.
"""

from __future__ import annotations

from typing import Any

from chatbatch.output import files
from chatbatch.output.workload import Phase, WorkloadContext

# DuckDB SQL (date arithmetic); parameter $as_of: the as-of date (ISO).
LATEST_FEATURES = """
select
    user_id,
    cast($as_of as date) as as_of_date,
    preferred_channel,
    preferred_locale,
    last_intent,
    conversations_to_date,
    conversations_7d,
    conversations_28d,
    escalation_rate_28d,
    csat_avg,
    csat_ratings,
    cast(cast($as_of as date) - last_conversation_date as integer) as days_since_last_conversation,
    last_conversation_date,
    as_of_date as valid_from
from features.feat_user_daily
where as_of_date <= cast($as_of as date) and (valid_to is null or valid_to >= cast($as_of as date))
order by user_id
"""


class UserFeaturesWorkload:
    name = "user_features"
    phase: Phase = "before_publish"

    def run(self, ctx: WorkloadContext) -> dict[str, Any]:
        folder = ctx.paths.features_export
        as_of = ctx.run_date.isoformat()
        con = files.connect(ctx.paths.warehouse)
        try:
            latest = files.write_parquet(
                con, LATEST_FEATURES, folder / "user_latest.parquet", {"as_of": as_of}
            )
        finally:
            con.close()
        content = {
            "artefact": "user_features_latest",
            "source": "features.feat_user_daily",
            "as_of_date": as_of,
            "users": latest.rows,
            "files": {"user_latest": latest.entry()},
        }
        manifest, written = files.write_manifest(folder / files.MANIFEST, content, ctx.batch_id)
        ctx.say(
            f"  user features: {manifest['users']:,} users as of {as_of}; "
            f"manifest {'written' if written else 'unchanged'}"
        )
        return {"users": manifest["users"], "as_of_date": as_of, "manifest_written": written}
