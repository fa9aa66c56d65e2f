"""Where a run extracts zip members: RAM only when what they may inflate to fits well within free memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineoa_pipeline.ingest.staging import RAM_FRACTION, _free_memory, scratch_folders, scratch_for
from lineoa_pipeline.settings.datadir import DataDir

SMALL = 1 << 20  # what a small zip may inflate to


def test_members_are_extracted_to_disk_when_they_may_not_fit_in_a_fraction_of_free_memory(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path)
    on_disk, in_ram = scratch_folders(data_dir)
    for inflated in (1 << 50, None):  # more than any machine's memory; a zip whose directory cannot be read
        assert scratch_for(data_dir, inflated) == on_disk
        assert not in_ram.exists()


def test_members_that_fit_are_extracted_to_a_private_folder_in_ram_never_to_one_already_there(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path)
    if _free_memory() < SMALL * RAM_FRACTION:
        pytest.skip("no writable RAM-backed /dev/shm with room on this machine")
    on_disk, in_ram = scratch_folders(data_dir)
    try:
        assert scratch_for(data_dir, SMALL) == in_ram
        assert in_ram.stat().st_mode & 0o777 == 0o700
        # a folder of that name that this run did not just make (someone else's): the disk instead
        assert scratch_for(data_dir, SMALL) == on_disk
    finally:
        in_ram.rmdir()
