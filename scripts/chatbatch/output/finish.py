"""The end of every build that publishes (a night, the rebuild after an erasure): audit,
the topics step, the workloads before publish, publish, the workloads after it."""

from __future__ import annotations

from chatbatch.output import publish, registry
from chatbatch.process import audit, plan, topics
from chatbatch.process.night import Night


def audit_and_publish(night: Night, work: plan.Pending) -> None:
    """Audit, topics, the workloads before publish, publish, the workloads after it."""
    audit.audit(night, work)
    topics.topics(night)  # Python between dbt builds: assign topics, then build the topic marts
    registry.run_phase(night, "before_publish")
    night.record.status, night.record.published = "ok", True
    publish.publish_night(night)
    registry.run_phase(night, "after_publish")
