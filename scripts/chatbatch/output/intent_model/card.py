"""The model card (``MODEL_CARD.md``) of a trained candidate, from its metrics."""

from __future__ import annotations

from typing import Any


def model_card(metrics: dict[str, Any]) -> str:
    ev = metrics["evaluation"]
    data = metrics["dataset"]
    baseline = metrics.get("baseline")
    lines = [
        f"# Intent classifier v={metrics['version']:04d} ({metrics['status']})",
        "",
        f"- **Decision**: {metrics['status']}: {metrics['reason']}",
        f"- **Model**: {metrics['algorithm']}, random_state {metrics['seed']}, "
        f"trained in {metrics['training_seconds']} s",
        f"- **Data**: `{data['name']}` {data['version']} (exports/ml/): {data['train_rows']:,} train rows"
        + (
            f" (a seeded sample of its {data['train_split_rows']:,})"
            if data.get("train_split_rows", data["train_rows"]) > data["train_rows"]
            else ""
        )
        + ", "
        f"evaluated on its {data['test_rows']:,} test rows. The split is keyed by the near-duplicate "
        "text key, so no test text (nor a near-duplicate of it) was seen in training; texts are redacted.",
        "- **Intended use**: routing and analytics of chatbot user messages into the intent catalogue; "
        "not for decisions about people. Labels come from NLU confidence or confirmed resolutions, "
        "so they inherit the bot's errors.",
        "",
        "## Test scores",
        "",
        f"accuracy {ev['accuracy']:.4f} · macro-F1 {ev['macro_f1']:.4f} · "
        f"expected calibration error {ev['expected_calibration_error']:.4f}",
    ]
    if baseline:
        b = baseline["evaluation"]
        lines.append(
            f"current model v={baseline['version']:04d} on the same split: macro-F1 {b['macro_f1']:.4f}"
        )
    lines += ["", "| intent | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {s['intent']} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |"
        for s in ev["per_intent"]
    ]
    lines += [
        "",
        "## Reliability (top-class probability)",
        "",
        "| bin | n | confidence | accuracy |",
        "|---|---:|---:|---:|",
    ]
    for b in ev["reliability"]:
        if b["count"]:
            lines.append(
                f"| {b['lower']:.1f}-{b['upper']:.1f} | {b['count']} "
                f"| {b['mean_confidence']:.3f} | {b['accuracy']:.3f} |"
            )
    return "\n".join(lines) + "\n"
