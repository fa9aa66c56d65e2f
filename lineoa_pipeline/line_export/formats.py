"""What LINE Official Account Manager writes: labels per UI language, code pages, fixed texts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportLanguage:
    """The labels one UI language puts in an export; the layout is the same in every language."""

    code: str
    account_label: str
    timezone_label: str
    downloaded_label: str
    header: tuple[str, str, str, str, str]
    legacy_encoding: str  # the code page Excel re-saves this language in

    @property
    def metadata_labels(self) -> tuple[str, str, str]:
        return (self.account_label, self.timezone_label, self.downloaded_label)


LANGUAGES: dict[str, ExportLanguage] = {
    lang.code: lang
    for lang in (
        ExportLanguage(
            "ja",
            "アカウント名",
            "タイムゾーン",
            "ダウンロード日時",
            ("送信者タイプ", "送信者名", "送信日", "送信時刻", "内容"),
            "cp932",
        ),
        ExportLanguage(
            "en",
            "Account name",
            "Time zone",
            "Downloaded on",
            ("Sender type", "Sender name", "Date", "Time", "Message"),
            "cp1252",
        ),
        ExportLanguage(
            "zh-TW",
            "帳號名稱",
            "時區",
            "下載時間",
            ("傳送者類型", "傳送者名稱", "傳送日期", "傳送時間", "內容"),
            "cp950",
        ),
        ExportLanguage(
            "th",
            "ชื่อบัญชี",
            "ไทม์โซน",
            "วันดาวน์โหลด",
            ("ประเภทผู้ส่ง", "ชื่อผู้ส่ง", "วันส่ง", "เวลาส่ง", "ข้อความ"),
            "cp874",
        ),
    )
}

# Tried in this order on a file without a BOM; the first under which metadata and header are recognised wins.
CANDIDATE_ENCODINGS: tuple[str, ...] = ("utf-8", "cp932", "cp950", "cp874", "cp1252")

# Characters after which LINE (like Excel) writes a guarding apostrophe.
INJECTION_LEADS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n")

# Built-in placeholder texts -> kind; settings may add more.
PLACEHOLDERS: dict[str, str] = {
    "写真を送信しました。": "photo",
    "動画を送信しました。": "video",
    "スタンプを送信しました。": "sticker",
    "ボイスメッセージを送信しました。": "voice",
    "ファイルを送信しました。": "file",
    "位置情報を送信しました。": "location",
    "送信が取り消されたメッセージです": "unsent",
    "照片已傳送": "photo",
    "貼圖已傳送": "sticker",
    "影片已傳送": "video",
    "檔案已傳送": "file",
    "語音訊息已傳送": "voice",
    "位置資訊已傳送": "location",
    "您收到一則照片訊息": "photo",
    "您收到一則圖片訊息": "photo",
    "您收到一則影片訊息": "video",
    "您收到一則貼圖訊息": "sticker",
    "您收到一則語音訊息": "voice",
    "您收到一則檔案訊息": "file",
    "您收到一則位置訊息": "location",
    "You sent a photo.": "photo",
    "You sent a sticker.": "sticker",
    "You sent a video.": "video",
    "You sent a file.": "file",
    "You sent a voice message.": "voice",
    "You sent a location.": "location",
    "You received a photo.": "photo",
    "You received a sticker.": "sticker",
    "You received a video.": "video",
    "You received a file.": "file",
    "You received a voice message.": "voice",
    "You received a location.": "location",
    "写真を受信しました。": "photo",
    "ส่งรูปภาพแล้ว": "photo",
    "ส่งสติกเกอร์แล้ว": "sticker",
    "ส่งวิดีโอแล้ว": "video",
    "ส่งไฟล์แล้ว": "file",
    "ส่งข้อความเสียงแล้ว": "voice",
    "ส่งตำแหน่งที่ตั้งแล้ว": "location",
}

# Brackets LINE strips (with all white space) from chat names when it builds file names; chat names are
# matched after NFKC and after removing the same characters.
NAME_BRACKETS: str = "()[]{}<>（）［］｛｝＜＞「」『』【】〈〉《》〔〕"
