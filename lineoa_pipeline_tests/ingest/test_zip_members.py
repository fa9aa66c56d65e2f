"""A zip member read the short way is exactly what zipfile reads, and a member that is not sound fails as
zipfile fails on it (a corrupt member is quarantined by its caller, never read differently)."""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from pathlib import Path

import pytest

from lineoa_pipeline.ingest import zip_members
from lineoa_pipeline.ingest.zip_members import ZipMembers

CHUNK = 1 << 16
ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError)


def _zip(path: Path, members: list[tuple[str, bytes, int]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, method in members:
            zf.writestr(zipfile.ZipInfo(name, (2026, 3, 2, 0, 0, 0)), data, compress_type=method)
    return path


def _read_all(path: Path) -> tuple[dict[str, bytes | str], dict[str, bytes | str]]:
    """Each member as ZipMembers reads it and as zipfile reads it (or the name of the error each raises)."""
    ours: dict[str, bytes | str] = {}
    theirs: dict[str, bytes | str] = {}
    with zipfile.ZipFile(path) as zf:
        members = ZipMembers(zf, path)
        try:
            for info in zf.infolist():
                try:
                    ours[info.filename] = b"".join(members.chunks(info, CHUNK))
                except ERRORS as exc:
                    ours[info.filename] = type(exc).__name__
                try:
                    theirs[info.filename] = zf.read(info)
                except ERRORS as exc:
                    theirs[info.filename] = type(exc).__name__
        finally:
            members.close()
    return ours, theirs


def test_every_kind_of_member_reads_as_zipfile_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_members, "WHOLE_BYTES", 64 << 10)  # the big one goes through zipfile, in chunks
    texts = [("00001_山田.csv", "予約したいです\r\n".encode() * 40), ("00002_a.csv", os.urandom(3000))]
    members = [
        *[(name, data, zipfile.ZIP_DEFLATED) for name, data in texts],
        ("00003_stored.csv", b"stored as it is", zipfile.ZIP_STORED),
        ("00004_empty.csv", b"", zipfile.ZIP_DEFLATED),
        ("00005_big.csv", os.urandom(200 << 10), zipfile.ZIP_DEFLATED),
        ("00006_bzip.csv", b"bzip2, read by zipfile", zipfile.ZIP_BZIP2),
    ]
    ours, theirs = _read_all(_zip(tmp_path / "a.zip", members))
    assert ours == theirs == {name: data for name, data, _ in members}


def _corrupt(tmp_path: Path, change: str) -> Path:
    """A zip of two members, the first one damaged in one way."""
    path = _zip(
        tmp_path / f"{change}.zip",
        [("00001_a.csv", b"first " * 500, zipfile.ZIP_DEFLATED), ("00002_b.csv", b"second", zipfile.ZIP_STORED)],
    )
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04")
    body = local + 30 + len("00001_a.csv")
    if change == "deflate":
        data[body + 5 : body + 15] = b"\xff" * 10
    elif change == "crc":
        central = data.index(b"PK\x01\x02")
        data[central + 16] ^= 0xFF  # the directory's CRC-32 of the first member
    elif change == "name":
        data[local + 30] = ord("X")  # the local header names another file than the directory does
    elif change == "signature":
        data[local + 2] = 0
    elif change == "truncated":
        data = data[: body + 20] + data[data.index(b"PK\x03\x04", body) :]  # its bytes cut short
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("change", ["deflate", "crc", "name", "signature", "truncated"])
def test_a_damaged_member_fails_as_zipfile_fails_and_its_neighbour_still_reads(tmp_path: Path, change: str) -> None:
    ours, theirs = _read_all(_corrupt(tmp_path, change))
    assert isinstance(theirs["00001_a.csv"], str), "the damage is one zipfile sees"
    assert isinstance(ours["00001_a.csv"], str)
    assert ours["00002_b.csv"] == theirs["00002_b.csv"]


def test_entries_whose_bytes_overlap_the_next_member_are_left_to_zipfile(tmp_path: Path) -> None:
    """A directory entry whose bytes would run into the next member's header is never read the short way."""
    path = _zip(tmp_path / "o.zip", [("00001_a.csv", b"a" * 100, zipfile.ZIP_STORED), ("00002_b.csv", b"b", 0)])
    with zipfile.ZipFile(path) as zf:
        first = zf.infolist()[0]
        first.compress_size = first.file_size = 200  # as a crafted directory would say
        members = ZipMembers(zf, path)
        assert members._whole(first) is None
        with pytest.raises((zipfile.BadZipFile, EOFError)):
            b"".join(members.chunks(first, CHUNK))  # zipfile's own verdict
        members.close()


def test_the_short_way_reads_a_backup_the_size_of_a_real_one_as_zipfile_does(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    rows = "".join(f"User,山田 {i},2026/03/01,10:{i % 60:02d},メッセージ {i}\r\n" for i in range(90))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for chat in range(300):
            zf.writestr(f"{chat:05d}_chat{chat}.csv", f"header {chat}\r\n{rows}")
    path = tmp_path / "bulk.zip"
    path.write_bytes(buffer.getvalue())
    ours, theirs = _read_all(path)
    assert ours == theirs and len(ours) == 300
