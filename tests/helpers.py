"""What tests share: the repo's paths, the evaluation data, the CLI, readers and small rows.

Tests import these from here, never from one another.
"""

import datetime as dt
import pathlib
import shutil
import subprocess
import sys
import time

import duckdb
import pyarrow.dataset as ds
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SEED_ARTICLE = SEEDS / "000_9ad307750ad99124.txt"
SHARED = REPO.parent / "shared"
EVALDATA = SHARED / "evaldata"
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def evaldata(*parts: str) -> pathlib.Path:
    """A path under ../shared/evaldata, or a clean skip when it is absent (a user's clone)."""
    path = EVALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"evaluation data {path} is absent")
    return path


TABLES = ("articles", "entities", "quotes", "errors")


def newsbeam(*args, check=True):
    """Runs the installed console script (or the module, if the script is not on PATH)."""
    command = (
        [shutil.which("newsbeam")]
        if shutil.which("newsbeam")
        else [sys.executable, "-m", "pipelines.cli"]
    )
    result = subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"newsbeam {args} failed ({result.returncode}):\n{result.stderr[-3000:]}"
        )
    return result


def table(output, name):
    return ds.dataset(
        output / name, format="parquet", partitioning="hive", exclude_invalid_files=False
    ).to_table()


def comparable_rows(output):
    """Every row of every table, without the columns that differ between runs by design."""
    rows = {}
    connection = duckdb.connect()
    for name in TABLES:
        if not (output / name).exists():
            rows[name] = []
            continue
        varying = "exclude (ingested_at, run_id)" if name in ("articles", "errors") else ""
        relation = connection.sql(
            f"select * {varying} from read_parquet('{output / name}/*/*.parquet', "
            "hive_partitioning = true)"
        )
        rows[name] = sorted(map(repr, relation.fetchall()))
    return rows


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.1)
    return None


def error_row(i, date="2026-11-28"):
    return {
        "stage": "read",
        "origin": f"f{i}",
        "error_type": "x",
        "message": "m",
        "excerpt": None,
        "ingested_at": NOW,
        "run_id": None,  # the writer's
        "date": date,
    }


def parsed(text: str, tokens: list[tuple[str, int, str, str, str]]):
    """A spaCy Doc of ``(word, head, dep, pos, iob entity)`` tokens whose text is exactly
    ``text`` (spaces read from it), with English lexical attributes and no trained model."""
    from spacy.lang.en import English
    from spacy.tokens import Doc

    words, heads, deps, pos, ents = (list(column) for column in zip(*tokens, strict=True))
    spaces, at = [], 0
    for word in words:
        at = text.index(word, at) + len(word)
        spaces.append(text[at : at + 1] == " ")
    # English().vocab: a bare Vocab() leaves lower case and punctuation flags empty.
    doc = Doc(
        English().vocab, words=words, spaces=spaces, heads=heads, deps=deps, pos=pos, ents=ents
    )
    assert doc.text == text
    return doc
