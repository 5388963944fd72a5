"""The drafting extractor against the labelled articles in tests/data/articles/.

    .venv/bin/python bench/drafting.py [--runs 20] [--verbose]

Runs `bot.drafting.draft` over every article (after one warm-up pass) `--runs` times,
scores the drafts against the labels (bot/drafting/score.py) and prints, last:

    drafting articles=N events_precision=P events_recall=R fields_accuracy=F reactions_recall=R ms_p99=T

An event counts as found when its date and category match; fields accuracy is over the
fields the labels give. Targets: precision and recall >= 0.9, fields >= 0.85, ms_p99 <
200 (milliseconds to draft one article). `--verbose` lists every miss.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import date
from pathlib import Path

from bot.drafting import draft
from bot.drafting.score import Score, score

ARTICLES = Path(__file__).resolve().parents[1] / "tests" / "data" / "articles"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed passes over every article")
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    articles = []
    for labels_path in sorted(ARTICLES.glob("*.json")):
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
        text = labels_path.with_suffix(".txt").read_text(encoding="utf-8")
        articles.append((labels_path.stem, text, date.fromisoformat(labels["published"]), labels))
    total = Score()
    for name, text, published, labels in articles:  # also the warm-up pass
        total.add(score(draft(text, published).as_dict(), labels, name))
    timings: list[float] = []
    for _ in range(args.runs):
        for _, text, published, _ in articles:
            started = time.perf_counter()
            draft(text, published)
            timings.append((time.perf_counter() - started) * 1000)
    if args.verbose:
        for miss in total.misses:
            print(miss)
    print(
        f"drafting articles={len(articles)} events_precision={total.precision:.2f} "
        f"events_recall={total.recall:.2f} fields_accuracy={total.fields_accuracy:.2f} "
        f"reactions_recall={total.reactions_recall:.2f} ms_p99={percentile(timings, 0.99):.1f}"
    )


if __name__ == "__main__":
    main()
