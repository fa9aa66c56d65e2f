"""Finding exports: the inbox walked at any depth, and the CSVs in bulk zips streamed out within limits."""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lineoa_pipeline.exports.decode import HEAD_BYTES, rows_start
from lineoa_pipeline.unchanged import BodyHash

CHUNK = 1 << 20
MAX_MEMBER_BYTES = 2 << 30  # no single chat export comes near 2 GiB
MAX_ZIP_BYTES = 32 << 30  # everything one zip may inflate to
MAX_RATIO = 200  # a CSV deflates ~5-10x; a bomb by hundreds or thousands
RATIO_FLOOR = 1 << 20  # small members may have any ratio
INPUT_SUFFIXES = (".zip", ".csv")
NESTED_ZIP = "a zip inside a zip: unpack it and drop its contents in the inbox"


@dataclass(frozen=True)
class InboxFile:
    path: Path
    relative: str  # inbox-relative, with forward slashes
    bytes: int
    mtime_ns: int


def walk_inbox(inbox: Path) -> list[InboxFile]:
    """Every `.zip` and `.csv` below `inbox`, at any depth (hidden files and partial downloads skipped)."""
    found = []
    for folder, dirs, files in os.walk(inbox):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or not name.lower().endswith(INPUT_SUFFIXES):
                continue
            path = Path(folder, name)
            stat = path.stat()
            found.append(InboxFile(path, path.relative_to(inbox).as_posix(), stat.st_size, stat.st_mtime_ns))
    return found


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
    body_sha256: str | None = None  # of its bytes after the three metadata lines (unchanged.py)


class CorruptZip(ValueError):
    """The zip as a whole cannot be read."""


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as written: a zip without the UTF-8 flag is cp437 or, from Japan, cp932."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def extract_members(archive_path: Path, scratch: Path) -> Iterator[Member]:
    """Stream the CSV members of a zip one after another into one spool file in `scratch` (a member's own
    name never becomes a path), hashing and counting quotes as it goes and stopping any member that inflates
    past the limits. Each member keeps its metadata and header lines, for recognising it; the spool is
    complete once the iteration ends."""
    try:
        zf = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptZip(f"corrupt zip: {exc}") from exc
    spool = scratch / "members.spool"
    total = 0
    with zf, open(spool, "wb") as out:
        for info in zf.infolist():
            name = member_name(info)
            if info.is_dir():
                continue
            if name.lower().endswith(".zip"):
                yield Member(name, None, None, info.file_size, NESTED_ZIP)
                continue
            if not name.lower().endswith(".csv") or PurePosixPath(name).name.startswith("."):
                continue
            offset = out.tell()
            digest, body = hashlib.sha256(), BodyHash()
            size = quotes = 0
            head = b""
            problem = None
            try:
                with zf.open(info) as src:
                    while chunk := src.read(CHUNK):
                        size += len(chunk)
                        total += len(chunk)
                        if size > MAX_MEMBER_BYTES or total > MAX_ZIP_BYTES:
                            problem = f"inflates past the size limit ({size:,} bytes so far)"
                        elif size > RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
                            problem = f"inflates more than {MAX_RATIO}x (a zip bomb?)"
                        if problem:
                            break
                        if len(head) < HEAD_BYTES:
                            head += chunk[: HEAD_BYTES - len(head)]
                        digest.update(chunk)
                        body.update(chunk)
                        quotes += chunk.count(b'"')
                        out.write(chunk)
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
                continue
            head = head[: rows_start(head, len(head))[0]]  # its metadata and header: memory stays small
            yield Member(
                name,
                spool,
                digest.hexdigest(),
                size,
                offset=offset,
                head=head,
                quotes=quotes,
                body_sha256=body.hexdigest(),
            )
