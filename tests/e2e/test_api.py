"""``import newsbeam``: ingest, query and stats from Python, the model loaded once per process."""

import subprocess
import sys

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import newsbeam
from tests.helpers import REPO, SEEDS


@pytest.fixture(scope="module")
def seed_output(tmp_path_factory):
    output = tmp_path_factory.mktemp("api") / "out"
    return output, newsbeam.ingest(str(SEEDS / "0*"), output=str(output), labels="person,org")


def test_ingest_returns_a_typed_summary(seed_output):
    output, run = seed_output
    assert isinstance(run, newsbeam.RunSummary)
    assert run.articles == 12 and run.balance["ok"]
    assert run.counts["write"]["entities"] > 0 and run.elapsed > 0
    assert run.output == str(output) and run.run_id in str(run)
    with pytest.raises(AttributeError):
        run.run_id = "other"  # frozen


def test_the_model_is_loaded_once_per_process(nlp, tmp_path, monkeypatch):
    import spacy

    def no_second_load(*args, **kwargs):
        raise AssertionError("the model was loaded again")

    monkeypatch.setattr(spacy, "load", no_second_load)
    for name in ("a", "b"):
        run = newsbeam.ingest(str(SEEDS / "001_*"), output=str(tmp_path / name))
        assert run.articles == 1 and run.counts["write"]["entities"] > 0


def test_query_results_of_every_kind(seed_output):
    output, _ = seed_output
    sql = "select label, count(*) as n from entities group by 1 order by 1"
    relation = newsbeam.query(output, sql)
    assert relation.fetchall() == newsbeam.query(output, sql, result="rows")
    assert {label for label, _ in relation.fetchall()} == {"ORG", "PERSON"}
    assert isinstance(newsbeam.query(output, sql, result="arrow"), pa.Table)
    assert isinstance(newsbeam.query(output, sql, result="pandas"), pd.DataFrame)
    assert isinstance(newsbeam.query(output, sql, result="polars"), pl.DataFrame)
    assert "Most quoted speakers" in newsbeam.stats(output, limit=3)


def test_mistakes_raise_before_anything_runs(tmp_path):
    with pytest.raises(newsbeam.UsageError, match="--shards"):
        newsbeam.ingest(str(SEEDS / "0*"), output=str(tmp_path / "o"), shards=0)
    with pytest.raises(newsbeam.UsageError, match="matches no file"):
        newsbeam.ingest(str(tmp_path / "nothing*"), output=str(tmp_path / "o"), nlp=False)
    with pytest.raises(TypeError, match="lables"):
        newsbeam.ingest(str(SEEDS / "0*"), output=str(tmp_path / "o"), lables="PERSON")
    with pytest.raises(newsbeam.UsageError, match="no output folder"):
        newsbeam.query(tmp_path / "nope", "select 1")
    with pytest.raises(newsbeam.UsageError, match="at least 1"):
        newsbeam.stats(tmp_path, limit=0)


def test_python_dash_m_newsbeam_is_the_command():
    result = subprocess.run(
        [sys.executable, "-m", "newsbeam", "--version"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0 and result.stdout.startswith("newsbeam ")
