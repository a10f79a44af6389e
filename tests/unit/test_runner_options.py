"""Runner options newsbeam completes: Dask by its short name, and its partitions."""

import pytest

from pipelines import options
from pipelines.options import OptionError
from transforms.lib.settings import DEFAULT_LIMITS


@pytest.mark.parametrize("name", ["DaskRunner", "dask", "Dask", options.DASK_RUNNER])
def test_the_dask_runner_by_any_name_gets_its_path_and_partitions(name):
    args = options.runner_arguments(["--runner", name, "--dask_client_address", "tcp://h:1"])
    assert args == [
        "--runner",
        options.DASK_RUNNER,
        "--dask_client_address",
        "tcp://h:1",
        f"--dask_npartitions={DEFAULT_LIMITS.dask_partitions}",
    ]
    assert options.is_dask(args)
    assert options.input_shards(args) == DEFAULT_LIMITS.dask_partitions


@pytest.mark.parametrize(("threads", "partitions"), [(1, 2), (2, 4), (16, 32), (0, None)])
def test_partitions_default_to_twice_the_clusters_threads(threads, partitions):
    args = options.runner_arguments(["--runner", "dask"], dask_threads=threads)
    expected = partitions or DEFAULT_LIMITS.dask_partitions  # 0: none known yet
    assert args[-1] == f"--dask_npartitions={expected}"
    assert options.input_shards(args) == expected


def test_partitions_the_user_gave_are_kept_and_cut_the_input_listing():
    args = options.runner_arguments(["--runner=dask", "--dask_npartitions", "24"])
    assert args == [f"--runner={options.DASK_RUNNER}", "--dask_npartitions", "24"]
    assert options.input_shards(args) == 24
    by_size = options.runner_arguments(["--runner", "dask", "--dask_partition_size=5"])
    assert not any(arg.startswith("--dask_npartitions") for arg in by_size)


@pytest.mark.parametrize(
    "args", [[], ["--runner", "DirectRunner"], ["--runner", "PortableRunner", "--job_endpoint=x"]]
)
def test_other_runners_are_left_as_they_are(args):
    assert options.runner_arguments(args) == args
    assert not options.is_dask(args) and options.input_shards(args) == 1


def test_dask_options_are_known_once_the_runner_is_dask():
    parsed = options.check_beam_arguments(
        ["--runner", "DaskRunner", "--dask_client_address", "tcp://127.0.0.1:1"]
    )
    assert parsed.get_all_options()["runner"] == options.DASK_RUNNER
    assert parsed.get_all_options()["npartitions"] == DEFAULT_LIMITS.dask_partitions
    with pytest.raises(OptionError, match="--dask_npartitions"):
        options.check_beam_arguments(["--runner", "dask", "--dask_npartitions", "many"])
