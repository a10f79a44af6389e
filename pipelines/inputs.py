"""The input files a run reads: those the output's input manifest does not hold unchanged.

``ingest`` and ``watch`` both choose their files here, from one manifest
(``transforms.store.load_input_manifest``): a file already ingested with the
same size and modification time is skipped before anything opens it. A file
whose time changed but whose size did not is hashed, when the manifest holds
its hash, and skipped if its bytes are the same; its new time is recorded by
``record_touched`` so it is not hashed again.
"""

import dataclasses
from collections.abc import Mapping

from transforms import store
from transforms.lib import formats, globs, manifest
from transforms.lib.records import Rejected
from transforms.lib.settings import DEFAULT_LIMITS


@dataclasses.dataclass(frozen=True)
class Selection:
    """What one run reads of the listed files."""

    inputs: list[str]  # the patterns to give the run
    read: list[str]  # the files it reads: new or changed
    unchanged: int  # files skipped: the output holds them as they are
    touched: dict[str, manifest.FileEntry]  # unchanged bytes under a new time, by key_of


def select(
    listing: Mapping[str, tuple[int | None, float | None]],
    known: manifest.InputManifest,
    *,
    patterns: list[str] | None = None,
    max_hash_bytes: int = DEFAULT_LIMITS.max_hash_bytes,
) -> Selection:
    """The files of ``listing`` (path -> (size, modification time)) that ``known`` does not
    hold unchanged. The run reads them as escaped literal paths, or as ``patterns`` (the
    patterns that were listed) when none is skipped."""
    plan = manifest.plan_reads(listing, known.files)
    read, touched = list(plan.read), {}
    for path in plan.to_verify:
        entry = known.files[manifest.key_of(path)]
        if _sha256(path, listing[path][0], max_hash_bytes) == entry.sha256:
            touched[manifest.key_of(path)] = entry._replace(mtime=listing[path][1])
        else:
            read.append(path)
    read.sort()
    unchanged = len(plan.unchanged) + len(touched)
    if patterns is not None and not unchanged:
        inputs = list(patterns)
    else:  # "a[1].txt" escaped is that file, not a pattern
        inputs = [globs.escape(path) for path in read]
    return Selection(inputs, read, unchanged, touched)


def everything(patterns: list[str]) -> Selection:
    """Every file the patterns match: nothing is skipped (``--rescan``, or no manifest yet)."""
    return Selection(list(patterns), [], 0, {})


def record_touched(output_dir: str, run_id: str, selection: Selection) -> None:
    """Records the new times of the files whose bytes had not changed (after the run)."""
    store.save_input_manifest(output_dir, run_id, selection.touched)


def _sha256(path: str, size: int | None, max_hash_bytes: int) -> str | None:
    """The file's SHA-256, as ``ReadArticles`` takes it; None for one too large or unreadable
    (it is then read again)."""
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    if size is None or size > max_hash_bytes:
        return None
    try:
        formats.check_regular_file(path)  # a FIFO would block the hash
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            return manifest.sha256_of(handle.read)
    except (OSError, Rejected):  # gone, unreadable or no file: read again, and the read says why
        return None
