"""The export generator writes what LINE writes, byte for byte; the demo and scale inboxes built on it."""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from lineoa_pipeline.commands.demo import write_demo_data
from lineoa_pipeline.line_export.formats import INJECTION_LEADS, LANGUAGES, PLACEHOLDERS
from lineoa_pipeline.line_export.render import ChatMessage, export_file_name, render_export, write_bulk_zip
from lineoa_pipeline.settings.config import DEFAULT_AUTO_REPLY_NAMES, load_settings
from lineoa_pipeline.synthetic.conversations import PHRASES, simulate_chat
from lineoa_pipeline.synthetic.scale import SCALE_SPAN_DAYS, SCALE_START, write_scale_inbox
from lineoa_pipeline_tests.helpers import SAMPLES

BOM = b"\xef\xbb\xbf"
DOWNLOADED = datetime(2026, 3, 2, 18, 5)


def parse(data: bytes) -> tuple[str, str, list[list[str]]]:
    """(language, encoding, rows) of an export, rows being every CSV record including metadata and header."""
    for encoding in ("utf-8-sig", *(lang.legacy_encoding for lang in LANGUAGES.values())):
        if encoding != "utf-8-sig" and data.startswith(BOM):
            continue
        try:
            rows = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
        except UnicodeDecodeError:
            continue
        for lang in LANGUAGES.values():
            if rows and rows[0][0] == lang.account_label and tuple(rows[3]) == lang.header:
                return lang.code, encoding, rows
    raise AssertionError("not an export")


def unguard(value: str) -> str:
    """A field as the pipeline reads it: without the injection guard, CRLF as \\n."""
    if value[:1] == "'" and value[1:2] in INJECTION_LEADS:
        value = value[1:]
    return value.replace("\r\n", "\n")


def messages_of(rows: list[list[str]]) -> list[ChatMessage]:
    """The messages of an export's rows, leaving out rows whose date or time cannot be read."""
    messages = []
    for kind, name, day, clock, text in rows[4:]:
        try:
            sent_at = datetime.strptime(f"{day} {clock}", "%Y/%m/%d %H:%M:%S")
        except ValueError:
            continue
        messages.append(ChatMessage(kind, unguard(name), sent_at, unguard(text)))
    return messages


def last_line(content: str, name: str = "山田 花子") -> bytes:
    data = render_export(
        "A", [ChatMessage("User", name, datetime(2026, 2, 27, 23, 59, 58), content)], downloaded_at=DOWNLOADED
    )
    return data.split(b"\xe5\x86\x85\xe5\xae\xb9\r\n", 1)[1]  # after the header's last label, 内容


def test_spec_example_byte_for_byte() -> None:
    messages = [
        ChatMessage("User", "山田 花子", datetime(2026, 2, 27, 23, 59, 58), "予約したいです"),
        ChatMessage("Account", "応答メッセージ", datetime(2026, 2, 27, 23, 59, 58), "メッセージありがとうございます。"),
        ChatMessage(
            "Account",
            "受付 佐々木",
            datetime(2026, 2, 28, 0, 10, 3),
            "はい、可能です。\n明日10時はいかがでしょうか。",
        ),
    ]
    expected = (
        "\ufeffアカウント名,さくら整体院\r\n"
        "タイムゾーン,'+09:00\r\n"
        "ダウンロード日時,2026/03/02 18:05\r\n"
        "送信者タイプ,送信者名,送信日,送信時刻,内容\r\n"
        "User,山田 花子,2026/02/27,23:59:58,予約したいです\r\n"
        "Account,応答メッセージ,2026/02/27,23:59:58,メッセージありがとうございます。\r\n"
        'Account,受付 佐々木,2026/02/28,00:10:03,"はい、可能です。\r\n明日10時はいかがでしょうか。"\r\n'
    )
    assert render_export("さくら整体院", messages, downloaded_at=DOWNLOADED) == expected.encode()


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("plain", "plain"),
        ("料金は5,000円です。", '"料金は5,000円です。"'),
        ('say "hi"', '"say ""hi"""'),
        ('=HYPERLINK("https://example.jp")の件です', '"\'=HYPERLINK(""https://example.jp"")の件です"'),
        ("+81 90-1234-5678", "'+81 90-1234-5678"),
        ("-- 予約 --", "'-- 予約 --"),
        ("@受付", "'@受付"),
        ("\tindented", "'\tindented"),
        ("\nstarts with a line break", '"\'\r\nstarts with a line break"'),
        ("'already quoted", "'already quoted"),
        ("a\nb", '"a\r\nb"'),
        ("a\r\nb", '"a\r\nb"'),
        ("a\rb", '"a\r\nb"'),
        ("", ""),
    ],
)
def test_quoting_and_injection_guard(content: str, field: str) -> None:
    assert last_line(content) == f"User,山田 花子,2026/02/27,23:59:58,{field}\r\n".encode()


def test_guard_and_quotes_apply_to_every_field() -> None:
    assert last_line("x", name="-Bot, Inc.") == b'User,"\'-Bot, Inc.",2026/02/27,23:59:58,x\r\n'
    head = render_export('Café "Sol", Osaka', [], tz_offset="-03:00", downloaded_at=DOWNLOADED, lang="en")
    assert head.split(b"\r\n")[:2] == [
        BOM + b'Account name,"Caf\xc3\xa9 ""Sol"", Osaka"',
        b"Time zone,'-03:00",
    ]


def test_csv_round_trip_restores_every_content() -> None:
    rng = random.Random(7)
    texts = [t for book in PHRASES.values() for t in (*book.multiline, *book.guarded, *book.notices)]
    messages = [
        ChatMessage("User", "n", datetime(2026, 1, 1) + timedelta(minutes=i), rng.choice(texts)) for i in range(50)
    ]
    lang, encoding, rows = parse(render_export("A", messages, downloaded_at=DOWNLOADED))
    assert (lang, encoding) == ("ja", "utf-8-sig")
    assert messages_of(rows) == messages


def test_every_line_ends_crlf_and_header_only_export() -> None:
    data = render_export("みどり歯科クリニック", [], downloaded_at=datetime(2026, 2, 24, 17, 40))
    assert data.startswith(BOM)
    assert data.count(b"\r\n") == 4
    assert data.endswith("送信者タイプ,送信者名,送信日,送信時刻,内容\r\n".encode())
    assert b"\n" not in data.replace(b"\r\n", b"")


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_excel_resave_uses_legacy_code_page_and_unpadded_dates(lang: str) -> None:
    book = PHRASES[lang]
    messages = [
        ChatMessage("User", "x", datetime(2025, 4, 5, 3, 5, 9), book.questions[0]),
        ChatMessage("Account", book.staff[0], datetime(2025, 12, 25, 13, 0, 0), book.multiline[0]),
    ]
    data = render_export("A", messages, lang=lang, downloaded_at=datetime(2026, 1, 10, 9, 0), excel=True)
    encoding = LANGUAGES[lang].legacy_encoding
    assert not data.startswith(BOM)
    lines = data.decode(encoding).split("\r\n")
    assert lines[0] == f"{LANGUAGES[lang].account_label},A"
    assert lines[2] == f"{LANGUAGES[lang].downloaded_label},2026/1/10 9:00"
    assert lines[4].startswith("User,x,2025/4/5,3:05:09,")
    assert ",2025/12/25,13:00:00," in lines[5]
    assert messages_of(parse(data)[2]) == messages


def test_excel_resave_cannot_hold_every_character() -> None:
    message = ChatMessage("User", "x", datetime(2025, 4, 5), "🦷")
    with pytest.raises(UnicodeEncodeError):
        render_export("A", [message], downloaded_at=DOWNLOADED, excel=True)


def test_time_zone_offset_is_checked() -> None:
    with pytest.raises(ValueError, match="offset"):
        render_export("A", [], tz_offset="JST", downloaded_at=DOWNLOADED)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (
            ("藤田　剛(紹介)", date(2025, 5, 2), date(2026, 1, 31), 3),
            "00003_20250502_20260131_藤田剛紹介.csv",
        ),
        (("新規友だち", None, None, 5), "00005_新規友だち.csv"),
        (("Emma Brown", date(2025, 8, 11), date(2026, 1, 14)), "20250811_20260114_EmmaBrown.csv"),
        (("【VIP】山田 [本店]（渋谷）", None, None), "VIP山田本店渋谷.csv"),
        (("★前田 彩", date(2025, 4, 10), date(2026, 2, 2), 12345), "12345_20250410_20260202_★前田彩.csv"),
    ],
)
def test_export_file_name(args: tuple, name: str) -> None:
    assert export_file_name(*args) == name


@pytest.mark.parametrize(("args"), [("( )", None, None), ("a/b", None, None), ("x", date(2025, 1, 1), None)])
def test_export_file_name_refuses(args: tuple) -> None:
    with pytest.raises(ValueError):
        export_file_name(*args)


def test_bulk_zip(tmp_path: Path) -> None:
    chats = {
        "★前田 彩": [ChatMessage("User", "★前田 彩", datetime(2025, 4, 10, 10, 59, 53), "予約したいです")],
        "歯みがき教室 保護者": [
            ChatMessage("User", "保護者 A", datetime(2025, 12, 31, 4, 44, 1), "写真を送信しました。"),
            ChatMessage("User", "保護者 B", datetime(2026, 2, 7, 3, 32, 27), "ありがとうございます"),
        ],
        "新規友だち": [],
    }
    downloaded = datetime(2026, 2, 24, 17, 40)
    path = write_bulk_zip(tmp_path / "deep" / "b.zip", "みどり歯科クリニック", chats, downloaded_at=downloaded)
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == [
            "00001_20250410_20250410_★前田彩.csv",
            "00002_20251231_20260207_歯みがき教室保護者.csv",
            "00003_新規友だち.csv",
        ]
        assert all(i.compress_type == zipfile.ZIP_DEFLATED and i.flag_bits & 0x800 for i in infos)
        for info, (_, messages) in zip(infos, chats.items(), strict=True):
            expected = render_export("みどり歯科クリニック", messages, downloaded_at=downloaded)
            assert archive.read(info) == expected
    again = write_bulk_zip(tmp_path / "again.zip", "みどり歯科クリニック", chats, downloaded_at=downloaded)
    assert again.read_bytes() == path.read_bytes()


def test_phrase_books_match_formats_and_code_pages() -> None:
    for lang, book in PHRASES.items():
        assert all(PLACEHOLDERS[text] == kind for kind, text in book.media.items())
        assert book.auto_reply_name in DEFAULT_AUTO_REPLY_NAMES
        texts = [*book.staff, book.auto_reply, *book.questions, *book.answers, *book.thanks, *book.multiline]
        texts += [*book.guarded, *book.notices, *book.broadcasts]
        assert all(text not in PLACEHOLDERS for text in texts)
        "".join(texts).encode(LANGUAGES[lang].legacy_encoding)  # Excel can re-save every chat


def test_simulated_chat_is_ordered_and_bounded() -> None:
    start, end = datetime(2025, 1, 1), datetime(2025, 6, 1)
    extra = [(datetime(2025, 5, 31, 23, 0), "photo")]
    users = ("保護者 A", "保護者 B")
    messages = simulate_chat(random.Random(1), users, start=start, end=end, exchanges=30, extra=extra)
    assert messages == simulate_chat(random.Random(1), users, start=start, end=end, exchanges=30, extra=extra)
    times = [m.sent_at for m in messages]
    assert times == sorted(times) and start <= times[0] and times[-1] <= end
    assert {m.sent_at.microsecond for m in messages} == {0}
    assert {m.sender_name for m in messages if m.sender_type == "User"} == set(users)
    assert any(m.sender_name == "応答メッセージ" for m in messages)
    assert any(m.sent_at == extra[0][0] and m.content == "写真を送信しました。" for m in messages)


# --- scale -----------------------------------------------------------------------------------------------


def read_exports(inbox: Path) -> list[tuple[str, list[ChatMessage]]]:
    """(file name, messages) of every export in `inbox`, zip members and CSVs."""
    files: list[tuple[str, bytes]] = []
    for path in sorted(inbox.rglob("*")):
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                files += [(name, archive.read(name)) for name in archive.namelist()]
        elif path.suffix == ".csv":
            files.append((path.name, path.read_bytes()))
    return [(name, messages_of(parse(data)[2])) for name, data in files]


def read_chats(inbox: Path) -> dict[str, list[ChatMessage]]:
    """Chat name -> messages of an inbox with one export per chat, checking each file name's date range."""
    chats = {}
    for name, messages in read_exports(inbox):
        parts = re.match(r"(?:\d{5}_)?(?:(\d{8})_(\d{8})_)?(.+)\.csv$", name)
        assert parts
        if messages:
            assert parts.group(1, 2) == (f"{messages[0].sent_at:%Y%m%d}", f"{messages[-1].sent_at:%Y%m%d}")
        chats[parts[3]] = messages
    return chats


def test_scale_inbox_counts_order_and_variety(tmp_path: Path) -> None:
    counts = write_scale_inbox(tmp_path, chats=60, messages_per_chat=80, as_zip=True, seed=3)
    chats = read_chats(tmp_path)
    rows = [m for messages in chats.values() for m in messages]
    assert counts == {"files": 1, "chats": 60, "messages": len(rows), "bytes": counts["bytes"]}
    assert len(chats) == 60 and 0.8 * 60 * 80 < len(rows) < 1.2 * 60 * 80
    for messages in chats.values():
        assert [m.sent_at for m in messages] == sorted(m.sent_at for m in messages)
    span = [m.sent_at for m in rows]
    assert min(span) >= SCALE_START and max(span) <= SCALE_START + timedelta(days=SCALE_SPAN_DAYS)
    assert (max(span) - min(span)).days > 400
    assert any(len({m.sender_name for m in ms if m.sender_type == "User"}) > 1 for ms in chats.values())
    contents = Counter(m.content for m in rows)
    assert contents["写真を送信しました。"] and contents["メッセージありがとうございます。担当者より順次ご返信します。"]
    assert any("\n" in c for c in contents) and any('"' in c for c in contents) and any("," in c for c in contents)
    assert any(c[:1] in INJECTION_LEADS for c in contents)
    assert {m.sender_name for m in rows if m.sender_type == "Account"} >= {
        "Unknown",
        "応答メッセージ",
        "受付 中島",
    }


def test_scale_inbox_is_deterministic(tmp_path: Path) -> None:
    for run in ("a", "b"):
        write_scale_inbox(tmp_path / run, chats=20, messages_per_chat=30, as_zip=False, seed=5)
    write_scale_inbox(tmp_path / "c", chats=20, messages_per_chat=30, as_zip=False, seed=6)
    tree = {run: {p.name: p.read_bytes() for p in (tmp_path / run).rglob("*.csv")} for run in "abc"}
    assert tree["a"] == tree["b"] != tree["c"]
    assert len(tree["a"]) == 20


def test_next_weeks_backup_repeats_most_and_adds_at_the_end(tmp_path: Path) -> None:
    first = SCALE_START + timedelta(days=SCALE_SPAN_DAYS)
    write_scale_inbox(tmp_path / "1", chats=40, messages_per_chat=90, as_zip=True)
    write_scale_inbox(
        tmp_path / "2", chats=40, messages_per_chat=90, as_zip=True, downloaded_at=first + timedelta(days=7)
    )
    assert [p.name for p in (tmp_path / "2").iterdir()] == ["bulk_backup_20260309_0000.zip"]
    old, new = read_chats(tmp_path / "1"), read_chats(tmp_path / "2")
    assert old.keys() == new.keys()
    repeated = total = 0
    for chat, messages in new.items():
        seen = Counter(old[chat])
        repeated += sum((Counter(messages) & seen).values())
        total += len(messages)
        assert all(m in seen or m.sent_at >= max(old[chat], key=lambda x: x.sent_at).sent_at for m in messages)
    assert 0.95 < repeated / total < 1


# --- the samples LINE wrote ------------------------------------------------------------------------------


def sample_files() -> list[tuple[str, bytes]]:
    if not SAMPLES.is_dir():
        pytest.skip(f"no sample exports at {SAMPLES}")
    files = [(str(p.relative_to(SAMPLES)), p.read_bytes()) for p in sorted(SAMPLES.rglob("*.csv"))]
    for path in sorted(SAMPLES.rglob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            files += [(f"{path.name}!{name}", archive.read(name)) for name in archive.namelist()]
    return files


def test_render_reproduces_every_sample_byte_for_byte() -> None:
    files = sample_files()
    assert files
    for name, data in files:
        lang, encoding, rows = parse(data)
        downloaded = datetime.strptime(rows[2][1], "%Y/%m/%d %H:%M")
        rendered = render_export(
            rows[0][1],
            messages_of(rows),
            lang=lang,
            tz_offset=unguard(rows[1][1]),
            downloaded_at=downloaded,
            excel=encoding != "utf-8-sig",
        )
        assert rendered.split(b"\r\n")[:4] == data.split(b"\r\n")[:4], name
        assert rendered == data, name


def test_bulk_zip_reproduces_the_sample_members(tmp_path: Path) -> None:
    sample_files()
    with zipfile.ZipFile(SAMPLES / "bulk_backup_ja.zip") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    chats = {re.sub(r"^\d{5}_(\d{8}_\d{8}_)?", "", n)[:-4]: messages_of(parse(d)[2]) for n, d in members.items()}
    head = parse(next(iter(members.values())))[2]
    downloaded = datetime.strptime(head[2][1], "%Y/%m/%d %H:%M")
    path = write_bulk_zip(tmp_path / "b.zip", head[0][1], chats, downloaded_at=downloaded)
    with zipfile.ZipFile(path) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == members


# --- demo ------------------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    write_demo_data(root, NOW)
    return root


def test_demo_tree(demo: Path) -> None:
    inbox = demo / "inbox"
    zips = sorted(inbox.rglob("*.zip"))
    csvs = sorted(inbox.rglob("*.csv"))
    assert len(zips) == 2 and len(csvs) >= 7
    assert any(len(p.relative_to(inbox).parts) > 3 for p in csvs)  # nested folders
    assert (demo / "tags" / "tags.csv").read_text(encoding="utf-8").startswith("account_name,chat_name,tag\n")
    settings = load_settings(demo / "lineoa.toml")
    assert settings.defaults.sla_minutes == 60
    hours = settings.defaults.business_hours
    assert hours and hours[0] == hours[4] == [(9 * 3600, 18 * 3600)] and hours[5] == [(9 * 3600, 12 * 3600)]
    assert 6 not in hours and settings.defaults.holidays

    languages, excel, bad_rows = set(), [], []
    for path in csvs:
        data = path.read_bytes()
        lang, encoding, rows = parse(data)
        languages.add((lang, unguard(rows[1][1])))
        excel += [path] if encoding != "utf-8-sig" else []
        bad_rows += [path] if b"/02/30," in data else []
    assert languages >= {("ja", "+09:00"), ("en", "+09:00"), ("zh-TW", "+08:00"), ("th", "+07:00")}
    assert [p.name for p in excel] == [p.name for p in csvs if "Excel" in str(p)] and len(excel) == 1
    assert not excel[0].read_bytes().startswith(BOM) and re.search(rb",20\d\d/\d/\d{1,2},\d:", excel[0].read_bytes())
    assert len(bad_rows) == 1
    [cut] = [p for p in csvs if p.read_bytes().count(b'"') % 2]  # ends inside a quoted field
    assert cut.read_bytes().endswith(b"\r\n") and not cut.read_bytes().endswith(b'"\r\n')
    assert any(p.stem.endswith(" (1)") for p in csvs)


def test_demo_bulk_backups_overlap_and_show_a_year(demo: Path) -> None:
    older, newer = sorted((demo / "inbox").rglob("*.zip"))
    with zipfile.ZipFile(older) as a, zipfile.ZipFile(newer) as b:
        assert len(a.namelist()) == len(b.namelist()) >= 10
        header_only = [n for n in b.namelist() if b.read(n).count(b"\r\n") == 4]
        assert header_only and all(not re.match(r"\d{5}_\d{8}", n) for n in header_only)
        old = {n.split("_")[-1]: messages_of(parse(a.read(n))[2]) for n in a.namelist()}
        new = {n.split("_")[-1]: messages_of(parse(b.read(n))[2]) for n in b.namelist()}
    common = sum(len(set(old[c]) & set(new[c])) for c in new)
    assert common > 0.7 * sum(map(len, new.values()))
    group = new["歯みがき教室保護者.csv"]
    assert len({m.sender_name for m in group if m.sender_type == "User"}) >= 2
    local_now = NOW.astimezone(timezone(timedelta(hours=9))).replace(tzinfo=None)
    times = [m.sent_at for ms in new.values() for m in ms]
    assert local_now - timedelta(days=366) < min(times) and max(times) < local_now
    assert max(times) > local_now - timedelta(days=7)
    every = [m.sent_at for _, ms in read_exports(demo / "inbox") for m in ms]
    # Over 14 months of history: the oldest months are already past LINE's cutoff.
    assert min(every) < local_now - timedelta(days=430)


def test_demo_manifest_points_at_placeholders(demo: Path) -> None:
    exported = {(m.sent_at, m.content) for _, messages in read_exports(demo / "inbox") for m in messages}
    with (demo / "media" / "manifest.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["account_name", "chat_name", "sent_at", "kind", "file", "sha256", "bytes"]
    states: Counter[str] = Counter()
    for row in rows:
        sent_at = datetime.fromisoformat(row["sent_at"])
        assert sent_at.tzinfo is not None
        texts = {text for text, kind in PLACEHOLDERS.items() if kind == row["kind"]}
        assert any((sent_at.replace(tzinfo=None), t) in exported for t in texts), row
        path = demo / "media" / row["file"]
        if not path.exists():
            states["missing_file"] += 1
        elif hashlib.sha256(path.read_bytes()).hexdigest() != row["sha256"]:
            states["checksum_mismatch"] += 1
        else:
            assert path.stat().st_size == int(row["bytes"])
            states["ok"] += 1
    assert states["missing_file"] == states["checksum_mismatch"] == 1 and states["ok"] >= 3
    assert {r["kind"] for r in rows} >= {"photo", "file"}


def test_demo_is_deterministic_given_now(demo: Path, tmp_path: Path) -> None:
    write_demo_data(tmp_path, NOW)
    tree = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert tree == {p.relative_to(demo): p.read_bytes() for p in demo.rglob("*") if p.is_file()}
    later = tmp_path / "later"
    write_demo_data(later, NOW + timedelta(days=40))
    assert {p.name for p in later.rglob("*.zip")}.isdisjoint(p.name for p in demo.rglob("*.zip"))


def test_bursts_leave_most_chats_of_next_weeks_backup_unchanged(tmp_path: Path) -> None:
    first = SCALE_START + timedelta(days=SCALE_SPAN_DAYS)
    shape = {"chats": 300, "messages_per_chat": 30, "as_zip": True, "active_days": 9}
    write_scale_inbox(tmp_path / "1", **shape)
    write_scale_inbox(tmp_path / "2", downloaded_at=first + timedelta(days=7), **shape)
    old, new = read_chats(tmp_path / "1"), read_chats(tmp_path / "2")
    assert old.keys() == new.keys()
    same = [chat for chat in new if new[chat] == old[chat]]
    gained = [chat for chat in new if any(m.sent_at > first for m in new[chat])]
    lost = [chat for chat in new if any(m not in new[chat] for m in old[chat])]
    assert 0.9 < len(same) / len(new) < 1 and gained and lost
    for messages in old.values():  # each chat a burst: its messages within weeks, not the whole history
        if messages:
            assert (messages[-1].sent_at - messages[0].sent_at).days < 120
