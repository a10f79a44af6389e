"""An Airflow DAG that runs newsbeam every hour with the Apache Beam provider.

Install on the Airflow worker:
``pip install apache-airflow-providers-apache-beam apache-airflow-providers-google``
(the Beam provider's operators refuse to be built without the Google provider,
even for local runners), and newsbeam itself (``pip install /path/to/newsbeam``,
model included). Each run adds only articles not yet in the output, so retries
and backfills never duplicate rows. Point ``NEWSBEAM_INPUT`` and
``NEWSBEAM_OUTPUT`` at your data.
"""

import datetime as dt
import os

from airflow import DAG
from airflow.providers.apache.beam.operators.beam import BeamRunPythonPipelineOperator

import pipelines.ingest_job

INPUT = os.environ.get("NEWSBEAM_INPUT", "/data/news/incoming/*.jsonl")
OUTPUT = os.environ.get("NEWSBEAM_OUTPUT", "/data/news/newsbeam")

with DAG(
    dag_id="newsbeam_hourly",
    schedule="@hourly",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,  # one run at a time writes into the output
    tags=["news", "beam"],
) as dag:
    BeamRunPythonPipelineOperator(
        task_id="ingest",
        py_file=pipelines.ingest_job.__file__,
        runner="DirectRunner",  # or DataflowRunner, FlinkRunner, ... (see docs/RUNNERS.md)
        pipeline_options={
            "input": [INPUT],  # a list becomes one --input per pattern
            "output": OUTPUT,
            "direct_running_mode": "multi_processing",
            "direct_num_workers": 2,
        },
        py_system_site_packages=True,  # use the newsbeam installed beside Airflow
        retries=2,
        retry_delay=dt.timedelta(minutes=5),
    )
