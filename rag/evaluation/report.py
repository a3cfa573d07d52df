"""Turn ``rag eval`` metrics into tables and charts people read."""

from pathlib import Path
from typing import Any

#: (section, key, label) rows of the comparison table, in reading order.
TABLE_ROWS = [
    ("retrieval", "hit@1", "Retrieval hit@1 (R@1)"),
    ("retrieval", "hit@5", "Retrieval hit@5 (R@5)"),
    ("retrieval", "hit@20", "Retrieval hit@20 (R@20)"),
    ("retrieval", "mrr@10", "Retrieval MRR@10"),
    ("retrieval", "ndcg@10", "Retrieval nDCG@10"),
    ("retrieval", "answer_hit@1", "First document holds the answer"),
    ("answers", "accuracy", "Answer accuracy (gold in answer)"),
    ("answers", "exact_match", "Answer exact match"),
    ("answers", "f1", "Answer char F1"),
    ("answers", "short_answer_rate", "Short answers (≤ 30 chars)"),
    ("answers", "mean_answer_chars", "Mean answer length (chars)"),
    ("answers", "citation_accuracy", "Citation accuracy"),
    ("answers", "calibration_error", "Confidence calibration error (ECE)"),
    ("abstention", "precision", "Abstention precision"),
    ("abstention", "recall", "Abstention recall"),
    ("abstention", "wrongly_refused", "Answerable but refused"),
    ("latency_ms", "p50", "Latency p50 (ms)"),
    ("latency_ms", "p95", "Latency p95 (ms)"),
]


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.0f}"
    return str(value)


def comparison_table(configs: dict[str, dict[str, Any]]) -> str:
    """A Markdown table: one row per metric, one column per configuration."""
    names = list(configs)
    lines = [
        "| metric | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for section, key, label in TABLE_ROWS:
        values = [configs[n].get(section, {}).get(key) for n in names]
        if all(v is None for v in values):
            continue
        lines.append(f"| {label} | " + " | ".join(_cell(v) for v in values) + " |")
    return "\n".join(lines)


def type_table(metrics: dict[str, Any]) -> str:
    lines = [
        "| type | questions | hit@1 | MRR@10 | accuracy | F1 | abstained |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t, m in metrics["by_type"].items():
        lines.append(
            f"| {t} | {m['questions']} | {_cell(m['hit@1'])} | {_cell(m['mrr@10'])} | "
            f"{_cell(m['accuracy'])} | {_cell(m['f1'])} | {m['abstained']} |"
        )
    return "\n".join(lines)


def reliability_table(metrics: dict[str, Any]) -> str:
    lines = ["| confidence | answers | mean confidence | accuracy |", "|---|---:|---:|---:|"]
    for b in metrics.get("reliability", []):
        lines.append(
            f"| {b['bin']} | {b['answers']} | {_cell(b['mean_confidence'])} | "
            f"{_cell(b['accuracy'])} |"
        )
    return "\n".join(lines)


def returned_text(failure: dict[str, Any]) -> str:
    """What the system gave for a failed question: its error, a refusal or the answer."""
    if failure.get("error"):
        return f"error: {failure['error']}"
    return "(abstained)" if failure["abstained"] else str(failure["answer"])


def failures_table(metrics: dict[str, Any], limit: int = 200) -> str:
    lines = ["| id | type | question | expected | returned | cited |", "|---|---|---|---|---|---|"]
    for f in metrics["failures"][:limit]:
        expected = " / ".join(f["expected"]) if f["expected"] else "(abstain)"
        returned = returned_text(f)
        cells = [f["id"], f["type"], f["question"], expected, returned, ", ".join(f["cited"][:2])]
        lines.append(
            "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
        )
    return "\n".join(lines)


def _save(fig: Any, path: Path) -> str:
    """Write and close one chart; its file name for the report."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path.name


def _charts(result: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    configs: dict[str, dict[str, Any]] = result["configs"]
    names = list(configs)
    files = []

    keys = [
        ("retrieval", "hit@1"),
        ("retrieval", "mrr@10"),
        ("retrieval", "ndcg@10"),
        ("answers", "accuracy"),
        ("answers", "f1"),
        ("answers", "citation_accuracy"),
    ]
    keys = [k for k in keys if any(configs[n][k[0]].get(k[1]) is not None for n in names)]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [configs[name][s].get(k) or 0.0 for s, k in keys]
        bars = ax.bar([x + i * width for x in range(len(keys))], values, width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(
        [x + width * (len(names) - 1) / 2 for x in range(len(keys))], [k for _, k in keys]
    )
    ax.set_ylim(0, 1.08)
    ax.set_title(f"{result['dataset']}: metrics per configuration")
    ax.legend(loc="lower right")
    files.append(_save(fig, out / "metrics.png"))

    types = list(configs[names[0]]["by_type"])
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, name in enumerate(names):
        by_type = configs[name]["by_type"]
        values = [
            by_type[t]["accuracy"]
            if by_type[t]["accuracy"] is not None
            else by_type[t]["abstained"] / by_type[t]["questions"]
            for t in types
        ]
        ax.bar([x + i * width for x in range(len(types))], values, width, label=name)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(types))], types, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_title("Answer accuracy per question type (unanswerable: abstention rate)")
    ax.legend(loc="lower right")
    files.append(_save(fig, out / "accuracy_by_type.png"))

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="calibrated")
    for name in names:
        points = [
            (b["mean_confidence"], b["accuracy"])
            for b in configs[name].get("reliability", [])
            if b["answers"]
        ]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=name)
    ax.set_xlabel("confidence of the answers in the bin (mean)")
    ax.set_ylabel("share of those answers that were right")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_title("Reliability: accuracy per confidence bin")
    ax.legend(loc="upper left")
    files.append(_save(fig, out / "reliability.png"))

    fig, ax = plt.subplots(figsize=(9, 4))
    for name in names:
        ax.hist(configs[name]["latencies_ms"], bins=30, alpha=0.5, label=name)
    ax.set_xlabel("latency per question (ms, warm process)")
    ax.set_ylabel("questions")
    ax.set_title("Latency distribution")
    ax.legend()
    files.append(_save(fig, out / "latency.png"))
    return files


def write_report(result: dict[str, Any], out: Path) -> Path:
    """``report.md`` with the tables, plus PNG charts beside it."""
    out.mkdir(parents=True, exist_ok=True)
    configs = result["configs"]
    first = next(iter(configs))
    parts = [
        f"# Evaluation: {result['dataset']}",
        f"{configs[first]['questions']} questions; command: `{result['command']}`",
        "## Configurations side by side",
        comparison_table(configs),
    ]
    for name, metrics in configs.items():
        if "gold_paragraph" in metrics:
            r = metrics["gold_paragraph"]
            parts += [
                f"## Extraction with the gold paragraph given: {name}",
                f"exact match {r['exact_match']:.3f}, char F1 {r['f1']:.3f}, "
                f"would abstain {r['abstained']}",
            ]
    for name, metrics in configs.items():
        parts += [f"## By question type: {name}", type_table(metrics)]
        parts += [f"## Reliability: {name}", reliability_table(metrics)]
    parts += [f"## Failed questions: {first}", failures_table(configs[first])]
    parts += [f"![{f}]({f})" for f in _charts(result, out)]
    path = out / "report.md"
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return path
