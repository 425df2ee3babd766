"""``visitmap evaluate-scorers``: every scorer on a time split (issue 14, docs/scoring.md).

Prints ROC AUC, precision at the monthly capacity, Brier score and the confirmed crises caught
in a high tier of the weighted index's size, for the weighted index, the rules, the learned
(logistic) scorer and the additive (monotone) scorer; ``--save-model PATH`` also fits the
additive model on the latest period (features as of ``as_of - horizon``, outcomes up to
``as_of``) and writes its tables (how ``scoring/configs/additive_v1.toml`` was made).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click


@click.command("evaluate-scorers")
@click.option("--as-of", help="The end of the second period (default: today, Seoul).")
@click.option("--horizon-days", default=91, show_default=True, type=click.IntRange(7, 730))
@click.option("--save-model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", "model_version", default="additive_v1", show_default=True)
def evaluate_scorers(as_of, horizon_days, save_model, model_version) -> None:
    """Judge every scorer on outcomes after its features' day; optionally fit and save."""
    from sqlalchemy.orm import Session

    from geo.db import make_engine
    from geo.settings import load_settings, today_in_seoul
    from scoring.additive import save_model as write_model
    from scoring.config import default_config
    from visitmap.usecases.evaluation import fit_on_period, time_split_report

    day = dt.date.fromisoformat(as_of) if as_of else today_in_seoul()
    engine = make_engine(load_settings().database_url)
    try:
        with Session(engine) as session:
            report = time_split_report(session, as_of=day, horizon_days=horizon_days)
            model = None
            if save_model:
                model = fit_on_period(
                    session,
                    start=day - dt.timedelta(days=horizon_days),
                    end=day,
                    config=default_config(),
                    version=model_version,
                )
    finally:
        engine.dispose()
    click.echo(
        f"trained on features as of {report.train_day}, outcomes to {report.test_day}; "
        f"judged on features as of {report.test_day}, outcomes to {report.as_of}"
    )
    click.echo(report.table.round(3).to_string())
    click.echo("\ncalibration (additive, by score quintile):")
    click.echo(report.calibration["additive (monotone)"].round(3).to_string())
    if model is not None:
        write_model(model, save_model)
        click.echo(f"\nwrote {save_model} ({model.version}, {model.trained})")
