"""Alert step: a structured alert on stderr and, when configured, a webhook POST.

``CHATBATCH_WEBHOOK_URL`` receives a JSON body with a Slack-compatible ``text`` field
plus the structured fields. A webhook that cannot be reached never hides the original
problem: the delivery failure is itself reported on stderr.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from datetime import UTC, datetime
from typing import Any

SEVERITIES = ("warning", "error")


def build_alert(severity: str, title: str, details: dict[str, Any]) -> dict[str, Any]:
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}")
    lines = [f"[chatbatch {severity}] {title}"]
    lines += [f"• {key}: {value}" for key, value in details.items() if value not in (None, "")]
    return {
        "text": "\n".join(lines),
        "severity": severity,
        "title": title,
        "details": details,
        "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def send_alert(
    severity: str, title: str, details: dict[str, Any], webhook_url: str | None = None
) -> dict[str, Any]:
    """Emit the alert; return it with a ``delivered`` flag for the run record."""
    alert = build_alert(severity, title, details)
    print("CHATBATCH_ALERT " + json.dumps(alert, default=str, sort_keys=True), file=sys.stderr)
    url = webhook_url or os.environ.get("CHATBATCH_WEBHOOK_URL")
    alert["delivered"] = None
    if url:
        request = urllib.request.Request(
            url,
            data=json.dumps(alert, default=str).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                alert["delivered"] = 200 <= response.status < 300
        except OSError as exc:
            alert["delivered"] = False
            print(f"chatbatch: alert webhook failed: {exc}", file=sys.stderr)
    return alert
