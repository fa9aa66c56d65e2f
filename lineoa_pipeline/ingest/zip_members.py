"""A zip member's bytes, read the short way when it is the plain case LINE writes.

`zipfile` opens a member through a file object, a shared file and a decompressor object: about 80 µs a
member, over a minute of CPU for a year of weekly backups of 55,000 chats, most of it for members of a
few kilobytes. A member that is deflated or stored, not encrypted, no bigger than `WHOLE_BYTES`, whose
local header names it as the zip's directory does and whose bytes end before the next member's header, is
inflated here in one call from a memory map of the zip, and checked as `zipfile` checks it (its size and
CRC-32). Every other member is read through `zipfile`, which says what is wrong with it.
"""

from __future__ import annotations

import mmap
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

WHOLE_BYTES = 1 << 20  # a member declared no bigger is inflated in one call (zipfile never gives more)
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # as zipfile.structFileHeader
_SIGNATURE = b"PK\x03\x04"
_UNSUPPORTED_FLAGS = 0x01 | 0x20 | 0x40  # encrypted, compressed patched data, strong encryption
_UTF8_NAME = 0x800


class ZipMembers:
    """The members of an open zip file, `chunks(info, size)` each in pieces of at most `size` bytes."""

    def __init__(self, zf: zipfile.ZipFile, path: Path) -> None:
        self._zf = zf
        with open(path, "rb") as src:
            self._map = mmap.mmap(src.fileno(), 0, access=mmap.ACCESS_READ)
        starts = sorted({info.header_offset for info in zf.infolist()})
        self._next = dict(zip(starts, [*starts[1:], zf.start_dir], strict=True))  # where each one must end

    def close(self) -> None:
        self._map.close()

    def chunks(self, info: zipfile.ZipInfo, size: int) -> Iterator[bytes]:
        """The member's bytes, inflated and checked; zipfile's errors for a member that is not sound."""
        whole = self._whole(info)
        if whole is not None:
            if whole:
                yield whole
            return
        with self._zf.open(info) as src:
            while chunk := src.read(size):
                yield chunk

    def _whole(self, info: zipfile.ZipInfo) -> bytes | None:
        """The member's bytes when it is the plain case (checked), else None: read it through zipfile."""
        if (
            info.file_size > WHOLE_BYTES
            or info.flag_bits & _UNSUPPORTED_FLAGS
            or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        ):
            return None
        at = info.header_offset
        if at < 0 or at + _LOCAL_HEADER.size > len(self._map):
            return None
        signature, _, _, flags, *_, name_length, extra_length = _LOCAL_HEADER.unpack_from(self._map, at)
        name_at = at + _LOCAL_HEADER.size
        start = name_at + name_length + extra_length
        end = start + info.compress_size
        if signature != _SIGNATURE or end > self._next.get(at, 0) or end > len(self._map):
            return None
        try:
            name = self._map[name_at : name_at + name_length].decode("utf-8" if flags & _UTF8_NAME else "cp437")
        except UnicodeDecodeError:
            return None
        if name != info.orig_filename:
            return None
        data = self._map[start:end]
        if info.compress_type == zipfile.ZIP_DEFLATED:
            inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            data = inflate.decompress(data, info.file_size + 1)
            if not inflate.eof:
                raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
        return data
