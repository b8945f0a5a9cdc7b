"""Japanese strings of the desk's queue (issue 20): what waits for whom, in `/status`, `/dx queue`,
the App Home and the staff's bundled reminder. Keys are prefixed ``q_``.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- the kinds of wait and who holds them ------------------------------------------------
    "q_kind_match": "マッチング待ち",
    "q_kind_approval": "県の承認待ち",
    "q_kind_schedule": "日程調整待ち",
    "q_kind_report": "報告書待ち",
    "q_kind_review": "報告書の確認待ち",
    "q_kind_survey": "アンケート回答待ち",
    "q_kind_deliverable": "成果物「{title}」",
    "q_holder_staff": "事務局",
    "q_holder_prefecture": "県",
    "q_holder_expert": "専門人材",
    "q_holder_officer": "市町村",
    "q_holder_with_people": "{holder}: {people}",
    # --- the list ------------------------------------------------------------------------------
    "q_section": "■ 対応待ち {total}件（待ちの長い順・うち要対応{flagged}件）",
    "q_section_prefecture": (
        "■ 対応待ち {total}件（県のご対応分{mine}件を先頭に、待ちの長い順・うち要対応{flagged}件）"
    ),
    "q_section_expert": "■ ご対応待ち {total}件（待ちの長い順・うち要対応{flagged}件）",
    "q_none": "・対応待ちはありません",
    "q_line": "・{flag}{ref} {municipality}{kind}（{holder}） {age}",
    "q_flag": "【要対応】",
    "q_age": "{days}開庁日経過",
    "q_age_today": "本日から",
    "q_due": "期限{due}",
    "q_late": "【期限から{days}開庁日超過】",
    "q_rest": "　…ほか{n}件。全件は「/dx queue」でご覧いただけます。",
    "q_all_header": "【対応待ち一覧】{date}時点 全{total}件（待ちの長い順・うち要対応{flagged}件）",
    "q_all_footer": "各案件の詳細は「/status 案件番号」でご覧いただけます。",
    "q_help": "・対応待ちの全件（案件番号・待っている開庁日数）: 「/dx queue」",
    "q_usage": "使い方: 「/dx queue」で対応待ちの全件をご覧いただけます。",
    # --- an officer's open cases: what each waits for ----------------------------------------
    "q_officer_waits": "　└ {kind}（{holder}・{age}）",
    "q_officer_survey_note": "　└ アンケートへのご回答をお待ちしております（「/dx survey {ref}」）",
    # --- the staff's bundled reminder ----------------------------------------------------------
    "q_ping_header": "■ 目安を過ぎた対応待ち（{n}件）",
    "q_ping_staff": "【対応待ちのお知らせ】目安の開庁日数を過ぎた対応待ちがあります。\n{lines}",
}

MESSAGES_EN: dict[str, str] = {
    "q_usage": "usage: dxbot queue [--as PLATFORM_ID] [--program ID] [--json]",
}
