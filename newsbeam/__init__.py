"""newsbeam from Python: news files and feeds to entities, quotes and Parquet."""

from importlib import metadata

try:
    __version__ = metadata.version("newsbeam")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
