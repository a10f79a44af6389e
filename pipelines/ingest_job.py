"""``newsbeam ingest`` as a plain pipeline file, for launchers that run ``python FILE --opt=v``.

Airflow's BeamRunPythonPipelineOperator and Dataflow flex templates call a
file with options and no subcommand; this is that file.
"""

import sys

from pipelines.cli import main

if __name__ == "__main__":
    sys.exit(main(["ingest", *sys.argv[1:]]))
