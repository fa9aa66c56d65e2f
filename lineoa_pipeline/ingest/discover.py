"""Finding exports: the inbox walked at any depth, and the CSVs in bulk zips streamed out within limits."""

from __future__ import annotations

import codecs
import hashlib
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from lineoa_pipeline.ingest.decode import HEAD_BYTES, rows_start
from lineoa_pipeline.ingest.inputs import inspect_real, why_unreadable
from lineoa_pipeline.ingest.staged import BodyHash
from lineoa_pipeline.ingest.zip_members import ZipMembers
from lineoa_pipeline.line_export.names import decoded_name, recorded_path

CHUNK = 1 << 20
MAX_MEMBER_BYTES = 2 << 30  # no single chat export comes near 2 GiB
MAX_ZIP_BYTES = 32 << 30  # everything one zip may inflate to
MAX_RATIO = 200  # a CSV deflates ~5-10x; a bomb by hundreds or thousands
RATIO_FLOOR = 1 << 20  # small members may have any ratio
PARTIAL_SUFFIXES = (".crdownload", ".part", ".partial", ".download", ".tmp")  # a download not finished yet
NESTED_ZIP = "a zip inside a zip: unpack it and drop its contents in the inbox"
EXCEL = "an Excel workbook: download the CSV again, or save it as CSV"
SHARED_ENTRIES = "entries of its directory share one member's bytes: not a zip LINE writes (a zip bomb?)"
NO_CSV = "a zip with no CSV inside: download the backup again (a backup holds one CSV per chat)"


@dataclass(frozen=True)
class InboxFile:
    path: Path
    relative: str  # inbox-relative, with forward slashes
    bytes: int
    mtime_ns: int
    problem: str | None = None  # why it cannot be read now: reported, skipped, tried again at the next run


def walk_inbox(inbox: Path) -> list[InboxFile]:
    """Every file below `inbox`, at any depth (hidden files and partial downloads skipped; linked folders
    not followed). An entry that cannot be read (a dangling link, a link out of the data directory, a pipe
    or a device) is listed with its problem, never opened."""
    found = []
    real_root = os.path.realpath(inbox.parent)
    for folder, dirs, files in os.walk(inbox):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        real_folder = os.path.realpath(folder)  # resolved once a folder, not once a file (55,000 of them)
        for name in sorted(files):
            if name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES):
                continue
            path = Path(folder, name)
            relative = recorded_path(path.relative_to(inbox).as_posix())
            try:
                real = os.path.join(real_folder, name)
                status = inspect_real(os.path.realpath(real) if os.path.islink(real) else real, real_root)
            except OSError as exc:
                found.append(InboxFile(path, relative, 0, 0, why_unreadable(exc)))
                continue
            found.append(InboxFile(path, relative, status.st_size, status.st_mtime_ns))
    return found


def not_an_export(name: str) -> str | None:
    """Why a file that is not a zip is no export, by its name: None for a `.csv` (its bytes decide)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in (".csv", ".zip"):
        return None
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return EXCEL
    if suffix == ".txt":
        return "a text file: LINE's chat history as text cannot be read; download the chat as CSV instead"
    kind = f"a {suffix} file" if suffix else "a file without an extension"
    return f"not a chat export ({kind}): the inbox takes the CSV files and zip backups LINE exports"


def declared_size(path: Path) -> int | None:
    """What a zip's entries say they inflate to in all (never more: reading stops there), or None when its
    directory cannot be read."""
    try:
        with zipfile.ZipFile(path) as zf:
            return sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def is_zip(path: Path) -> bool:
    with open(path, "rb") as src:
        return src.read(4) in (b"PK\x03\x04", b"PK\x05\x06")


@dataclass(frozen=True)
class Member:
    """One file taken out of a zip: where its bytes now are (`bytes` of them from `offset` in `path`), its
    metadata and header lines and how many double quotes it holds; or why it could not be taken."""

    name: str
    path: Path | None
    sha256: str | None
    bytes: int
    problem: str | None = None
    offset: int = 0
    head: bytes = b""
    quotes: int = 0
    utf8: bool = True  # all of it is valid UTF-8
    body_sha256: str | None = None  # of its bytes after the three metadata lines (unchanged.py)


class CorruptZip(ValueError):
    """The zip as a whole cannot be read."""


class SpoolFailed(Exception):
    """Extracted members could not be written (a disk full, a file too large): a failure of the run, never
    of the input, which stays to be staged at the next run. Not an OSError, so that no handler of a
    member's read errors takes it for the input's."""


def _hidden(name: str) -> bool:
    """Whether a member's own name (after its last folder) starts with a dot."""
    return name.rpartition("/")[2].startswith(".")


def _spool(out: BinaryIO, chunk: bytes) -> None:
    try:
        out.write(chunk)
    except OSError as exc:
        raise SpoolFailed(f"could not write extracted zip members to {out.name}: {exc}") from exc


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as written: a zip without the UTF-8 flag is cp437 or, from Japan, cp932."""
    if info.flag_bits & 0x800:
        return info.filename
    decoded = decoded_name(info.filename.encode("cp437"))
    return info.filename if decoded is None else decoded


def extract_members(archive_path: Path, scratch: Path) -> Iterator[Member]:
    """Stream the CSV members of a zip one after another into one spool file in `scratch` (a member's own
    name never becomes a path), hashing and counting quotes as it goes and stopping any member that inflates
    past the limits, and the whole zip when all of it inflates more than MAX_RATIO times its size (entries
    that share one member's bytes are refused before anything is inflated). Each member keeps its metadata
    and header lines, for recognising it; the spool is complete once the iteration ends."""
    try:
        zf = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptZip(f"corrupt zip: {exc}") from exc
    spool = scratch / "members.spool"
    total = 0
    bound = MAX_RATIO * archive_path.stat().st_size + RATIO_FLOOR  # for the whole zip, however many members
    infos = zf.infolist()
    if len({info.header_offset for info in infos}) < len(infos):
        zf.close()
        raise CorruptZip(SHARED_ENTRIES)
    names = [member_name(info) for info in infos if not info.is_dir()]
    if not any(n.lower().endswith((".csv", ".zip")) and not _hidden(n) for n in names):
        zf.close()
        raise CorruptZip(EXCEL if "[Content_Types].xml" in names or "xl/workbook.xml" in names else NO_CSV)
    with zf, closing(ZipMembers(zf, archive_path)) as members, open(spool, "wb") as out:
        for info in zf.infolist():
            name = member_name(info)
            if info.is_dir():
                continue
            if name.lower().endswith(".zip"):
                yield Member(name, None, None, info.file_size, NESTED_ZIP)
                continue
            if not name.lower().endswith(".csv") or _hidden(name):
                continue
            offset = out.tell()
            digest, body = hashlib.sha256(), BodyHash()
            size = quotes = 0
            head = b""
            problem = None
            utf8 = codecs.getincrementaldecoder("utf-8")()
            valid = True
            try:
                with closing(members.chunks(info, CHUNK)) as pieces:
                    for chunk in pieces:
                        size += len(chunk)
                        total += len(chunk)
                        if size > MAX_MEMBER_BYTES or total > MAX_ZIP_BYTES:
                            problem = f"inflates past the size limit ({size:,} bytes so far)"
                        elif size > RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
                            problem = f"inflates more than {MAX_RATIO}x (a zip bomb?)"
                        elif total > bound:
                            problem = f"the zip inflates more than {MAX_RATIO}x its size in all (a zip bomb?)"
                        if problem:
                            break
                        if len(head) < HEAD_BYTES:
                            head += chunk[: HEAD_BYTES - len(head)]
                        digest.update(chunk)
                        body.update(chunk)
                        quotes += chunk.count(b'"')
                        valid = valid and _still_utf8(utf8, chunk)
                        _spool(out, chunk)
            except RuntimeError as exc:  # an encrypted member: zipfile asks for a password
                problem = f"unreadable zip member: {exc}"
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
                problem = f"corrupt zip member: {exc}"
            if problem:
                out.seek(offset)
                out.truncate()
                yield Member(name, None, None, size, problem)
                if total > MAX_ZIP_BYTES:
                    raise CorruptZip(f"zip inflates past {MAX_ZIP_BYTES:,} bytes in total")
                if total > bound:
                    raise CorruptZip(f"inflates more than {MAX_RATIO}x its size in all (a zip bomb?)")
                continue
            head = head[: rows_start(head, len(head))[0]]  # its metadata and header: memory stays small
            valid = valid and _still_utf8(utf8, b"", final=True)
            yield Member(
                name,
                spool,
                digest.hexdigest(),
                size,
                offset=offset,
                head=head,
                quotes=quotes,
                utf8=valid,
                body_sha256=body.hexdigest(),
            )


def _still_utf8(decoder: codecs.IncrementalDecoder, chunk: bytes, final: bool = False) -> bool:
    """Whether the bytes fed to `decoder` so far, `chunk` the last, are valid UTF-8."""
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True
