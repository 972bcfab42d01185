"""The topics step: after the main build, group unlabelled user messages into topics,
then build the models that read them.

The clustering is Python (scikit-learn), between dbt models: the main build makes
``int_messages_unlabelled`` (excluding ``tag:topics``); this step fits or updates the
topic model and the assignments in the warehouse schema ``topics``
(``transform/topics/store.py``), then a second, small dbt invocation builds the models
tagged ``topics`` (the staging views over that schema, ``dim_topics``, ``rpt_topics``,
``rpt_kb_content_gaps``) with their tests. When the model was (re-)fitted, every
assignment may have changed, so that invocation rebuilds its incremental models whole.
"""

from __future__ import annotations

from chatbatch.process.build import AFTER_TOPICS, NIGHTLY_DBT_FLAGS, invoke
from chatbatch.process.dbt import dbt_args
from chatbatch.process.night import Night


def topics(night: Night) -> None:
    from chatbatch.transform.topics import store  # scikit-learn loads only when the step runs

    with night.timed("topics"):
        con = night.connect()
        try:
            update = store.update(
                con,
                night.record.batch_id,
                night.options.run_date,
                requested=night.options.recluster_topics,
                reassign_all=night.options.full_refresh,
            )
        finally:
            con.close()
        night.record.outputs["topics"] = update.to_dict()
        fitted = f"model v{update.model_version} fitted ({update.fitted}), " if update.fitted else ""
        night.say(
            f"  topics: {fitted}{update.topics} topics; {update.messages_assigned} messages assigned, "
            f"{update.messages_pending} pending"
        )
    with night.timed("build_topics"):
        invoke(
            night,
            "build_topics",
            dbt_args(
                "build",
                select=[AFTER_TOPICS],
                variables=night.dbt_vars(),
                full_refresh=night.options.full_refresh or update.fitted is not None,
                extra=NIGHTLY_DBT_FLAGS,
            ),
        )
