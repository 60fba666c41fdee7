"""Old results tables are upgraded once, from the registries, and the report then reads only the rows."""

from __future__ import annotations

import json

import pandas as pd
from synthetic import grid

from bench import results
from bench.__main__ import main
from bench.datasets import DATASETS
from bench.report import analysis, claims
from bench.upgrade import FILLED, fill_from_registry

SEQ = {"synthetic_sequences": ("sequence", "classification")}
RNN_MODELS = {"lr": ("classical", "logistic_regression", "raw", {}), "mlp": ("deep", "mlp", "raw", {}),
              "rnn": ("deep", "rnn", "raw", {})}
# Cells of the published MNIST-1D split (4,000 training rows, 1,000 test rows): the report's
# external section matches them on the dataset's effective parameters (shuffle_seq=False, ...).
MNIST1D = {"mnist1d": ("sequence", "classification")}
CNN_MODELS = {"lr": ("classical", "logistic_regression", "raw", {}), "cnn": ("deep", "cnn", "raw", {})}


def _old(df: pd.DataFrame) -> pd.DataFrame:
    """`df` as a table written before schema 2: no tags, hyperparameters, effective dataset parameters or version."""
    return df.drop(columns=[*FILLED, "schema"])


def _mnist1d_table() -> pd.DataFrame:
    """Rows as today's code writes them: their hyperparameters the estimators' own (from the
    registry), since the report's External section sets them against a published network's."""
    df = grid(lambda r: {"score": 0.9 if r["model"] == "cnn" else 0.8, "n_test": 1000}, datasets=MNIST1D,
              models=CNN_MODELS, sizes=(1000, 4000), seeds=(0, 1))
    return fill_from_registry(results._typed(_old(df)))[df.columns]


def _report(run, out, capsys) -> tuple[str, str]:
    assert main(["report", str(run), "--out", str(out)]) == 0
    return (out / "report.md").read_text(encoding="utf-8"), capsys.readouterr().out


def test_a_table_written_before_tags_gets_them_from_the_registry():
    df = grid(lambda r: {"lr": 0.8, "mlp": 0.7, "rnn": 0.95}[r["model"]], datasets=SEQ, models=RNN_MODELS)
    old = results._typed(_old(df))
    assert set(old["schema"]) == {1} and old["model_tags"].isna().all()
    new = fill_from_registry(old)
    ok = analysis.ok_rows(new)
    assert set(ok.loc[ok["model"] == "rnn", "model_tags"]) == {"recurrent"}
    assert set(ok["dataset_tags"]) == {"long_range,synthetic"}
    hyper = json.loads(ok.loc[ok["model"] == "mlp", "hyperparams"].iloc[0])  # built by the factory
    assert {"dropout", "weight_decay", "lr"} <= set(hyper)
    effective = json.loads(ok["dataset_effective_params"].iloc[0])
    assert effective == DATASETS["synthetic_sequences"].defaults
    assert set(new["schema"]) == {results.SCHEMA}
    long_range = next(c for c in claims.FURTHER if c.key == "long_range")
    assert claims.evaluate(long_range, new).verdict == "supported"
    assert claims.evaluate(long_range, old).verdict == "not measurable"  # the report itself fills nothing


def test_an_old_folder_is_upgraded_once_and_reports_as_the_new_one(tmp_path, capsys):
    table = _mnist1d_table()
    new_run, old_run = tmp_path / "new", tmp_path / "old"
    new_run.mkdir(), old_run.mkdir()
    table.to_parquet(new_run / "results.parquet", index=False)
    _old(table).to_parquet(old_run / "results.parquet", index=False)

    new_md, said = _report(new_run, tmp_path / "new-report", capsys)
    assert "older results schema" not in said
    old_md, said = _report(old_run, tmp_path / "old-report", capsys)
    assert f"8 rows of an older results schema upgraded to schema {results.SCHEMA}" in said
    assert old_md == new_md and "shuffle_seq=False" in new_md
    upgraded = results.load(old_run)
    assert set(upgraded["schema"]) == {results.SCHEMA} and upgraded["dataset_effective_params"].notna().all()
    assert list(pd.read_csv(old_run / "results.csv").columns) == results.COLUMNS

    again_md, said = _report(old_run, tmp_path / "again", capsys)
    assert "older results schema" not in said and again_md == new_md  # once


def test_an_upgraded_report_does_not_change_when_a_registry_default_does(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    run.mkdir()
    _old(_mnist1d_table()).to_parquet(run / "results.parquet", index=False)
    before, _ = _report(run, tmp_path / "before", capsys)

    monkeypatch.setitem(DATASETS["mnist1d"].defaults, "shuffle_seq", True)
    after, said = _report(run, tmp_path / "after", capsys)
    assert after == before and "older results schema" not in said
    # An upgrade today would read the changed default, and the report would differ.
    fresh = fill_from_registry(results._typed(_old(_mnist1d_table())))
    assert json.loads(fresh["dataset_effective_params"].iloc[0])["shuffle_seq"] is True


def _row(key: str, **extra) -> dict:
    return {"key": key, "dataset": "d", "modality": "tabular", "task": "classification", "model": "lr",
            "family": "classical", "features": "raw", "n_train": 10, "n_test": 5, "seed": 0, "status": "ok", "threads": 1, "jobs": 1,
            "score": 0.5, "dataset_name": "synthetic_classification", "model_name": "logistic_regression",
            "dataset_params": json.dumps({"n_samples": 300}), "params": "{}", **extra}


def test_a_rows_file_is_rewritten_with_the_upgraded_rows_and_new_rows_are_current(tmp_path):
    old = [_row("a"), _row("b", status="error", score=None)]
    (tmp_path / results.ROWS_FILE).write_text("".join(json.dumps(r) + "\n" for r in old))
    store = results.ResultsStore(tmp_path)
    store.append(_row("c", model_tags="mine"))  # written by this code: current, filled by nobody
    store.write_tables()
    store.close()
    assert list(results.load(tmp_path)["schema"]) == [1, 1, results.SCHEMA]

    done = results.upgrade(tmp_path, fill_from_registry)
    assert done.rows == 2 and done.unwritten is None
    rows = {r["key"]: r for r in results.read_rows(tmp_path)}
    assert {r["schema"] for r in rows.values()} == {results.SCHEMA}
    assert rows["a"]["model_tags"] == "linear" and rows["a"]["dataset_tags"] == "synthetic"  # the registry's tags
    assert json.loads(rows["a"]["dataset_effective_params"])["n_samples"] == 300
    assert "hyperparams" in rows["a"] and "hyperparams" not in rows["b"]  # a failed cell has none
    assert rows["c"]["model_tags"] == "mine" and "dataset_effective_params" not in rows["c"]
    loaded = results.load(tmp_path)
    assert loaded.drop(columns=["schema"]).equals(done.table.drop(columns=["schema"]))
    assert results.upgrade(tmp_path, fill_from_registry).rows == 0


def test_a_folder_a_run_is_writing_into_is_upgraded_in_memory_only(tmp_path):
    (tmp_path / results.ROWS_FILE).write_text(json.dumps(_row("a")) + "\n")
    before = (tmp_path / results.ROWS_FILE).read_bytes()
    store = results.ResultsStore(tmp_path)
    try:
        done = results.upgrade(tmp_path, fill_from_registry)
    finally:
        store.close()
    assert done.rows == 1 and "another run is writing" in done.unwritten
    assert set(done.table["schema"]) == {results.SCHEMA} and done.table["model_tags"].notna().all()
    assert (tmp_path / results.ROWS_FILE).read_bytes() == before


def test_a_new_row_records_the_datasets_effective_parameters_and_the_current_schema(tmp_path):
    from bench.execution.cell import base_row
    from bench.suite import load, plan

    suite = tmp_path / "s.toml"
    suite.write_text('[suite]\nname = "s"\nseeds = [0]\ntrain_sizes = [100]\n'
                     '[datasets.synthetic_classification]\nn_samples = 300\n[models.logistic_regression]\n')
    cells, _ = plan(load(str(suite)))
    row = base_row(cells[0])
    assert json.loads(row["dataset_params"]) == {"n_samples": 300}  # what the suite said
    assert json.loads(row["dataset_effective_params"]) == {**DATASETS["synthetic_classification"].defaults, "n_samples": 300}
    store = results.ResultsStore(tmp_path / "run")
    store.append(row)
    store.close()
    assert results.read_rows(tmp_path / "run")[0]["schema"] == results.SCHEMA
