"""The scheduling examples: valid Python, a DAG when Airflow is there, a runnable job file."""

import py_compile
import subprocess
import sys

import pytest

from tests.helpers import REPO, SEEDS, table


def test_airflow_example_is_valid_python():
    py_compile.compile(str(REPO / "examples" / "airflow_dag.py"), doraise=True)


def test_airflow_example_parses_as_a_dag():
    pytest.importorskip("airflow.providers.apache.beam")
    pytest.importorskip("airflow.providers.google")  # the Beam operators require it
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(REPO / "examples" / "airflow_dag.py"))
    assert not bag.import_errors
    assert "newsbeam_hourly" in bag.dags


def test_job_file_takes_options_the_way_the_operator_passes_them(tmp_path):
    output = tmp_path / "out"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "pipelines" / "ingest_job.py"),
            "--runner=DirectRunner",
            f"--input={SEEDS / '000_*.txt'}",
            f"--output={output}",
            "--no-nlp",
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    assert table(output, "articles").num_rows == 1
