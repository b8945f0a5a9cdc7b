"""The Japanese message catalogue: every user-facing chat string lives here, keyed by name.

Handlers never hold Japanese text; they name a message and pass its parameters. A missing key
or parameter is a programming error and fails loudly in tests rather than showing half a message.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, str] = {
    # --- greeting and help ----------------------------------------------------------------
    "greeting": (
        "こんにちは、{name}さん。{program}の相談窓口ボットです。\n"
        "ご用件をそのまま書いてください（例:「電子契約について相談したい」）。"
        "できることは「/dx help」で確認できます。"
    ),
    "console_banner": (
        "DX相談窓口ボット（コンソール）— プログラム: {program}\n"
        "いまの利用者: {user}（{role}）。「/as ユーザーID」で利用者を切り替え、"
        "「/users」で登録済みの利用者を表示、「/quit」で終了します。"
    ),
    "console_switched": "利用者を {user}（{role}）に切り替えました。",
    "console_users": "登録済みの利用者:\n{lines}",
    "help_header": "{role}としてできること:",
    "help_officer": (
        "・相談を申し込む: 「/consult」または相談内容をそのまま送信\n"
        "・自分の団体の相談の状況: 「/status」、個別の案件: 「/status 案件番号」\n"
        "・相談の取り下げ: 「/dx withdraw 案件番号」\n"
        "・支援後のアンケートへの回答（依頼が届きます）\n"
        "・自団体の支援実績の資料: 「/deck」"
    ),
    "help_expert": (
        "・担当する支援の一覧と未提出の報告: 「/status」\n"
        "・支援実施報告の作成: 「/report」（支援終了後に依頼が届きます）\n"
        "・報告期限の確認: 「/dx due 2026-12-25」"
    ),
    "help_staff": (
        "・事業全体の進捗: 「/status」、個別の案件: 「/status 案件番号」\n"
        "・相談の受付代行: 「/consult」\n"
        "・マッチングと日程調整: 「/dx match 案件番号」\n"
        "・報告資料（PowerPoint）: 「/deck」、一覧の出力: 「/dx export cases」\n"
        "・報告期限の確認: 「/dx due 2026-12-25」"
    ),
    "help_prefecture": (
        "・事業全体の進捗: 「/status」、個別の案件: 「/status 案件番号」\n"
        "・派遣人材の承認（承認依頼が届きます）\n"
        "・報告資料（PowerPoint）: 「/deck」、一覧の出力: 「/dx export cases」\n"
        "・報告期限の確認: 「/dx due 2026-12-25」"
    ),
    "help_admin": (
        "・事務局・県職員のすべての操作\n"
        "・利用者の一覧: 「/dx users」（登録・削除はコマンドライン「dxbot users」）"
    ),
    "help_footer": "途中でやめるときは「やめる」または「キャンセル」と送ってください。",
    # --- identity and input ---------------------------------------------------------------
    "unknown_user": (
        "このボットを使うには利用者登録が必要です。"
        "事務局に、チャットのユーザーID（{platform_id}）を添えて登録を依頼してください。"
    ),
    "empty_message": "メッセージが空でした。ご用件を文章で送ってください。",
    "message_too_long": (
        "メッセージが長すぎます（{length:,}文字）。{limit:,}文字以内に分けて送ってください。"
    ),
    "unknown_command": (
        "「{command}」というコマンドはありません。使えるコマンドは「/dx help」で確認できます。"
    ),
    "unknown_dx_subcommand": (
        "「/dx {sub}」は使えません。「/dx help」で使えるコマンドを確認してください。"
    ),
    "not_understood": (
        "すみません、ご用件を読み取れませんでした。相談の申し込みは「/consult」、"
        "使い方は「/dx help」をご覧ください。"
    ),
    "forbidden": "申し訳ありませんが、{role}の権限ではこの操作はできません。",
    "internal_error": (
        "申し訳ありません、処理中に問題が起きました。入力内容は保存されていません。"
        "少し待ってからもう一度お試しください。続く場合は事務局にお知らせください。"
    ),
    "choice_out_of_range": "1〜{count}の番号で選んでください。",
    # --- conversations ----------------------------------------------------------------------
    "conversation_expired": (
        "前回の「{flow}」の入力は、時間が経ったため取り消しました（案件は作成されていません）。"
        "必要でしたら、もう一度はじめからお願いします。"
    ),
    "conversation_cancelled": "「{flow}」を取り消しました。入力内容は保存していません。",
    "nothing_to_cancel": "取り消す手続きはありません。",
    "conversation_resumed": "前回の「{flow}」の続きです。",
    # --- generic -------------------------------------------------------------------------
    "case_not_found": "案件「{case_no}」は見つかりませんでした。番号をご確認ください。",
    "date_invalid": (
        "「{text}」を日付として読み取れませんでした。2026-12-25 のように入力してください。"
    ),
    "due_answer": ("{day}に実施した支援の報告期限は、{n}開庁日後の{due}です。{note}"),
    "due_note_closed": "（{day}は{reason}で閉庁日のため、翌開庁日から数えています）",
}


class CatalogError(KeyError):
    pass


def t(key: str, **params: Any) -> str:
    """Render catalogue message ``key`` with ``params``."""
    try:
        template = MESSAGES[key]
    except KeyError as exc:
        raise CatalogError(f"no message {key!r} in the catalogue") from exc
    try:
        return template.format(**params)
    except KeyError as exc:
        raise CatalogError(f"message {key!r} needs parameter {exc.args[0]!r}") from exc
