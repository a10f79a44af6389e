"""The progress line and the counts behind it, without a pipeline."""

import json

from pipelines.progress import progress_line
from tests.helpers import wait_for
from transforms.lib import counters, progress


def test_the_line_says_read_enriched_written_rate_elapsed_and_what_is_left():
    totals = {
        counters.READ_RECORDS: 90,
        counters.FEEDS_RECORDS: 10,
        counters.ENRICH_ARTICLES: 50,
        counters.write_rows("articles"): 40,
        counters.READ_FILES: 25,
    }
    line = progress_line(totals, elapsed=10.0, files=100)
    assert line == "read 100 · enriched 50 · written 40 · 5.0 articles/s · 0:10 · ~0:30 left"
    assert "left" not in progress_line(totals, elapsed=10.0, files=None)
    assert progress_line({}, elapsed=0.0, files=3).startswith("read 0 · enriched 0 · written 0")


def test_worker_counts_are_written_to_the_folder_and_added_up(tmp_path, monkeypatch):
    monkeypatch.setenv(progress.ENV, str(tmp_path))
    monkeypatch.setattr(progress, "_flusher", None)
    progress.reset()
    progress.tally(counters.READ_RECORDS, 3)
    assert wait_for(lambda: list(tmp_path.glob("*.json")), 5)
    (own,) = tmp_path.glob("*.json")
    assert json.loads(own.read_text()) == {counters.READ_RECORDS: 3}
    (tmp_path / "99999999.json").write_text(json.dumps({counters.READ_RECORDS: 4, "x": "bad"}))
    (tmp_path / "torn.json").write_text("{")
    assert progress.collect(str(tmp_path))[counters.READ_RECORDS] == 7  # own file not twice
    progress.reset()
    assert progress.local() == {}
