"""Where a run extracts zip members: RAM only when what they may inflate to fits well within free memory."""

from __future__ import annotations

from lineoa_pipeline.ingest.staging import scratch_folders, scratch_for
from lineoa_pipeline_tests.conftest import IngestDir


def test_members_are_extracted_to_disk_when_they_may_not_fit_in_a_fraction_of_free_memory(
    ingest_dir: IngestDir,
) -> None:
    on_disk, in_ram = scratch_folders(ingest_dir.data_dir)
    for inflated in (1 << 50, None):  # more than any machine's memory; a zip whose directory cannot be read
        assert scratch_for(ingest_dir.data_dir, inflated) == on_disk
        assert not in_ram.exists()
    chosen = scratch_for(ingest_dir.data_dir, 1 << 20)
    assert chosen in (on_disk, in_ram)
    chosen.rmdir()
