"""`lineoa status` in the command line's language: the `language` setting, else the locale, else English."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lineoa_pipeline.commands.cli import main
from lineoa_pipeline.settings.datadir import DataDir
from lineoa_pipeline_tests.helpers import lineoa_command, lineoa_env
from lineoa_pipeline_tests.history.sample import KANA, build_languages

AS_OF = "2026-03-10T12:00:00+09:00"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    return build_languages(tmp_path_factory.mktemp("status"))


def _status(data_dir: DataDir, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["status", "--data-dir", str(data_dir.root), "--as-of", AS_OF]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("ja_JP.UTF-8", ["2026-03-10 12:00 +09:00 時点の保存状況", "最後の一括バックアップ:   なし", "未保存 1件"]),
        ("zh_TW.UTF-8", ["截至 2026-03-10 12:00 +09:00 的保存狀況", "最近一次整批備份：無", "未儲存 1 則"]),
        ("th_TH.UTF-8", ["สถานะการเก็บประวัติ ณ 2026-03-10 12:00 +09:00", "ยังไม่เคย", "ยังไม่ได้บันทึก 1 รายการ"]),
        ("C", ["Retention status as of 2026-03-10 12:00 +09:00", "Last bulk backup:        never", "1 pending"]),
    ],
)
def test_status_speaks_the_locales_language(
    data_dir: DataDir,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    locale: str,
    said: list[str],
) -> None:
    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", locale)
    text = _status(data_dir, capsys)
    assert all(words in text for words in said), text
    if locale != "ja_JP.UTF-8":  # the account and chat names hold no kana: every word shown is the locale's
        lines = [line for line in text.splitlines() if "さくら整体院" not in line and "山田" not in line]
        assert not [line for line in lines if KANA.search(line)], text


def test_the_language_setting_wins_over_the_locale(
    data_dir: DataDir, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "ja_JP.UTF-8")
    data_dir.settings_file.write_text('language = "th"\n', encoding="utf-8")
    try:
        text = _status(data_dir, capsys)
    finally:
        data_dir.settings_file.unlink()
    assert text.startswith("สถานะการเก็บประวัติ ณ ") and "時点" not in text


def test_a_thai_locale_keeps_the_gregorian_calendar(data_dir: DataDir) -> None:
    """DuckDB's date functions follow the process's locale: under th_TH its calendar is Buddhist (year 2569),
    and a time it computed came back as text. A fresh process, as the locale is read when DuckDB starts."""
    env = {**lineoa_env(), "LANG": "th_TH.UTF-8", "LC_ALL": "th_TH.UTF-8"}
    args = lineoa_command("status", "--data-dir", str(data_dir.root), "--as-of", AS_OF)
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("สถานะการเก็บประวัติ ณ 2026-03-10 12:00 +09:00")
    assert "2026-02  ไม่มี" in done.stdout and "2027-02-01 00:00" in done.stdout and "2569" not in done.stdout


RUN_SAYS = {
    "ja_JP.UTF-8": ["前回の実行から新しいものはありません", "完了：読み込んだファイル 0", "所要", "アーカイブ："],
    "zh_TW.UTF-8": ["自上次執行以來沒有新內容", "完成：已載入檔案 0", "耗時", "封存："],
    "th_TH.UTF-8": ["ไม่มีข้อมูลใหม่ตั้งแต่การรันครั้งก่อน", "เสร็จสิ้น: โหลดไฟล์ 0", "ใช้เวลา", "เก็บถาวร:"],
    "C": ["nothing new since the last run", "done: files loaded 0", "took", "archiving:"],
}


def test_a_run_speaks_the_locales_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = build_languages(tmp_path)
    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["run", "--data-dir", str(data_dir.root)]) == 0
    capsys.readouterr()
    for locale, said in RUN_SAYS.items():
        monkeypatch.setenv("LANG", locale)
        assert main(["run", "--data-dir", str(data_dir.root)]) == 0
        text = capsys.readouterr().out
        assert all(words in text for words in said), text


HELP_SAYS = {
    "ja_JP.UTF-8": [
        "使い方: lineoa run",
        "オプション:",
        "inbox を取り込み",
        "終了ステータス: 0: すべてのステップが成功した",
    ],
    "zh_TW.UTF-8": ["用法：lineoa run", "選項:", "匯入 inbox", "結束狀態：0：每個步驟都成功"],
    "th_TH.UTF-8": ["วิธีใช้: lineoa run", "ตัวเลือก:", "นำเข้า inbox", "สถานะการออก: 0: ทุกขั้นตอนสำเร็จ"],
    "C": ["usage: lineoa run", "options:", "ingest the inbox", "exit status: 0 when every step succeeded"],
}
ERROR_SAYS = {  # argparse's own error, and ours: the data directory named is missing
    "ja_JP.UTF-8": ["lineoa: エラー: 認識できない引数: --bogus", "フォルダがありません"],
    "zh_TW.UTF-8": ["lineoa: 錯誤: 無法識別的參數：--bogus", "沒有這個資料夾"],
    "th_TH.UTF-8": ["lineoa: ข้อผิดพลาด: อาร์กิวเมนต์ที่ไม่รู้จัก: --bogus", "ไม่มีโฟลเดอร์นี้"],
    "C": ["lineoa: error: unrecognized arguments: --bogus", "no such folder"],
}


@pytest.mark.parametrize("locale", list(HELP_SAYS))
def test_help_and_one_line_errors_speak_the_locales_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, locale: str
) -> None:
    for variable in ("LC_ALL", "LC_MESSAGES", "LINEOA_DATA_DIR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", locale)
    with pytest.raises(SystemExit) as shown:
        main(["run", "--help"])
    assert shown.value.code == 0
    text = capsys.readouterr().out
    assert all(words in text for words in HELP_SAYS[locale]), text
    with pytest.raises(SystemExit) as refused:
        main(["run", "--bogus"])
    assert refused.value.code == 2
    bad_argument = capsys.readouterr().err
    assert main(["status", "--data-dir", str(tmp_path / "no-such-folder")]) == 2
    missing = capsys.readouterr().err
    assert ERROR_SAYS[locale][0] in bad_argument and ERROR_SAYS[locale][1] in missing, bad_argument + missing
    assert len(missing.splitlines()) == 1 and missing.startswith("lineoa: ")
    if locale != "ja_JP.UTF-8":
        assert not KANA.search(text + bad_argument + missing)


def _with_settings(tmp_path: Path, text: str) -> DataDir:
    """An empty data directory whose lineoa.toml is `text`."""
    data_dir = DataDir(tmp_path / "data")
    data_dir.create()
    data_dir.settings_file.write_text(text, encoding="utf-8")
    return data_dir


def test_help_follows_the_language_setting_of_the_data_directory_it_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "ja_JP.UTF-8")
    data_dir = _with_settings(tmp_path, 'language = "th"\n')
    with pytest.raises(SystemExit):
        main(["status", "--data-dir", str(data_dir.root), "--help"])
    assert "วิธีใช้: lineoa status" in capsys.readouterr().out
    assert main(["search", "--data-dir", str(data_dir.root), "x"]) == 1  # before the first run
    assert capsys.readouterr().err.startswith(f"lineoa: ยังไม่มีคลังข้อมูลใน {data_dir.root}")


def test_a_bad_setting_is_said_in_the_locales_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "zh_TW.UTF-8")
    data_dir = _with_settings(tmp_path, 'timezone = "Mars/Olympus"\n')
    assert main(["status", "--data-dir", str(data_dir.root)]) == 2
    said = capsys.readouterr().err
    assert said == f"lineoa: {data_dir.settings_file} 的設定有誤：timezone：未知的時區 'Mars/Olympus'\n"
    data_dir.settings_file.write_text("[accounts.A.business_hours]\nmon = 9\n", encoding="utf-8")
    monkeypatch.setenv("LC_ALL", "C")
    assert main(["status", "--data-dir", str(data_dir.root)]) == 2
    said = capsys.readouterr().err
    assert said.endswith(": accounts.A.business_hours.mon: expected a list [...], got 9\n"), said
