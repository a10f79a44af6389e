"""The command's small promises, without running a pipeline: labels, folders, watch's settle
time and globs, the cached model."""

import os

import pytest

from pipelines import cli, options, watch
from pipelines.options import OptionError
from transforms.lib import nlp as spacy_side


def test_labels_are_case_insensitive():
    assert options.labels_from("person, gpe,Org") == {"PERSON", "GPE", "ORG"}
    assert options.labels_from("person", known={"PERSON", "ORG"}) == {"PERSON"}


@pytest.mark.parametrize(
    ("value", "message"), [("person,planet", "no label PLANET"), (" , ", "at least one")]
)
def test_unknown_or_no_labels_are_an_error(value, message):
    with pytest.raises(OptionError, match=message):
        options.labels_from(value, known={"PERSON", "ORG"})


def test_the_models_labels_are_the_ones_it_writes(nlp):
    assert {"PERSON", "ORG", "GPE"} <= spacy_side.entity_labels(nlp)


def test_the_model_is_loaded_once_per_process(nlp):
    assert spacy_side.load_model() is nlp  # the session fixture loaded it first
    assert spacy_side.load_model(spacy_side.default_model()) is nlp


def test_a_folder_input_means_the_files_inside_it(tmp_path):
    folder = tmp_path / "in [1]"
    folder.mkdir()
    globs = cli._folders_as_globs([str(folder) + "/", str(tmp_path / "*.txt")])
    assert globs == [os.path.join(str(tmp_path), "in [[]1]", "*"), str(tmp_path / "*.txt")]


def test_settled_files_leave_recent_ones_for_a_later_poll():
    listing = {"old": (10, 100.0), "fresh": (5, 198.0), "edge": (1, 195.0)}
    assert watch.settled_files(listing, now=200.0, settle=5.0) == {
        "old": (10, 100.0),
        "edge": (1, 195.0),
    }
    assert watch.settled_files(listing, now=200.0, settle=0.0) == listing


def test_watch_refuses_a_glob_in_a_missing_folder_but_not_an_empty_one(tmp_path, caplog):
    with pytest.raises(ValueError, match="no folder"):
        watch.check_pattern(str(tmp_path / "nosuch" / "*.jsonl"))
    watch.check_pattern(str(tmp_path / "*.jsonl"))  # a drop folder starts empty
    assert "matches no file yet" in caplog.text
    (tmp_path / "a.jsonl").write_text("{}\n")
    watch.check_pattern(str(tmp_path / "*.jsonl"))
