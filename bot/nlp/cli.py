"""Command-line entry points: ``siang classify`` and ``siang nlp train|evaluate``.

The lead registers ``classify_command`` and ``nlp_group`` on the ``siang`` CLI; ``python -m bot.nlp.cli``
runs them standalone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.nlp.dataset import DEFAULT_DATA


def classification_json(text: str, province: str | None, district: str | None) -> dict:
    """The JSON object written for one input line (``{"error": ...}`` for an unusable line)."""
    from bot.nlp import classify

    try:
        c = classify(text, province=province, district=district)
    except ValueError as e:
        return {"error": str(e)}
    return {
        "category": c.category, "confidence": c.confidence, "confident": c.confident,
        "alternatives": [{"category": a.category, "confidence": a.confidence} for a in c.alternatives],
        "agency": {"id": c.agency.id, "name_th": c.agency.name_th},
        "intent": c.intent, "urgent": c.urgent, "urgency_reason": c.urgency_reason, "hotline": c.hotline,
        "hotlines": list(c.hotlines),
    }


@click.command("classify")
@click.option("--province", default=None, help="Province of the complaints (Thai or English name).")
@click.option("--district", default=None, help="District (เขต) of the complaints, for Bangkok.")
def classify_command(province: str | None, district: str | None) -> None:
    """Classify complaints read one per line from standard input; write one JSON object per line."""
    stdin = click.get_binary_stream("stdin")
    out = click.get_text_stream("stdout")
    for raw in stdin:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        try:
            obj = classification_json(line, province, district)
        except Exception as e:  # one bad line must not stop a batch; say which and go on
            obj = {"error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()


@click.group("nlp")
def nlp_group() -> None:
    """Train and evaluate the Thai complaint classifier."""


@nlp_group.command("train")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_DATA,
              show_default=True, help="Traffy-format CSV to train on (split by ticket inside).")
@click.option("--corrections", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Staff corrections, CSV with columns text,category.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Model directory (default: the shipped bot/nlp/model/).")
def train_command(data: Path, corrections: Path | None, out: Path | None) -> None:
    """Rebuild the model reproducibly and print its test figures beside the baseline's."""
    from bot.nlp.dataset import read_corrections
    from bot.nlp.model import MODEL_DIR
    from bot.nlp.train import build

    extra = read_corrections(corrections) if corrections else []
    model, meta = build(data, extra)
    model.save(out or MODEL_DIR)
    click.echo(f"saved to {out or MODEL_DIR} (threshold {model.threshold:.4f}, temperature {model.temperature:.2f})")
    _print_report({"baseline (word unigrams + LR)": meta["baseline_test_metrics"], "siang": meta["test_metrics"]})


@nlp_group.command("evaluate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_DATA,
              show_default=True, help="Training data (for the baseline, and to skip rows trained on).")
@click.option("--corrections", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Also train with these staff corrections and show the effect.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def evaluate_command(file: Path, data: Path, corrections: Path | None, as_json: bool) -> None:
    """Evaluate the shipped model and a baseline trained in the same run on FILE (Traffy CSV format)."""
    from bot.nlp.evaluation_run import run_evaluation

    report = run_evaluation(file, data, corrections)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        click.echo(f"{report['rows_evaluated']} rows evaluated, {report['rows_skipped_trained_on']} skipped "
                   "(used for training/calibration)")
        _print_report(report["models"])


def _print_report(models: dict[str, dict]) -> None:
    keys = ["n", "hit_rate", "hit_rate_non_2022_export", "n_non_2022_export", "top3", "macro_f1", "threshold",
            "precision_at_threshold", "coverage"]
    names = list(models)
    click.echo(f"{'':28}" + "".join(f"{n[:30]:>32}" for n in names))
    for k in keys:
        click.echo(f"{k:28}" + "".join(f"{str(models[n].get(k)):>32}" for n in names))
    for n in names:
        click.echo(f"\nmost frequent confusions, {n} (gold -> predicted):")
        for c in models[n].get("confusions", []):
            click.echo(f"  {c['gold']} -> {c['predicted']}: {c['n']}")


@click.group()
def main() -> None:
    """Standalone wrapper until the commands are registered on ``siang``."""


main.add_command(nlp_group)
main.add_command(classify_command)

if __name__ == "__main__":
    sys.exit(main())
