"""Messages of engagements (handlers/engagements.py, reports/plan_doc.py, the engagement lines
of `/status` and the deck): Japanese for the chat and the documents, English for `dxbot plan`.
Merged into bot.core.catalog at import.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- /dx engage ------------------------------------------------------------------------------
    "engage_usage": (
        "支援計画の記録は「/dx engage 案件番号 テーマ=… 目標=… 範囲=… 成果物=… 回数=10 "
        "開始=2027-01-12」の形で送ってください（必要な項目だけで構いません。英語の "
        "theme= goal= scope= deliverables= sessions= start= も使えます）。"
        "記録の確認は「/dx engage 案件番号」です。"
    ),
    "engage_key_twice": "「{word}」が2回指定されています。項目ごとに1回だけ指定してください。",
    "engage_bad_number": (
        "予定回数「{text}」を数として読み取れませんでした。1から{max}までの数で指定してください"
        "（例: 回数=10）。"
    ),
    "engage_bad_date": (
        "開始日「{text}」を日付として読み取れませんでした。"
        "「開始=2027-01-12」や「開始=1月12日」の形で指定してください。"
    ),
    "engage_too_long": "{field}が長すぎます。{max}文字以内でお書きください。",
    "engage_no_tracks": (
        "{program}には伴走支援の対象団体を記録する支援区分がないため、支援計画は記録できません。"
    ),
    "engage_track_none": (
        "{case_no}は「{track}」の案件のため、支援計画は記録できません。"
        "支援計画を記録できるのは{tracks}の案件です"
        "（区分の変更は「/dx track 案件番号 区分ID」）。"
    ),
    "engage_duplicate": (
        "{municipality}の{track}の支援計画は、すでに{other}に記録されています。"
        "「/dx engage {other}」で確認・変更してください。"
    ),
    "engage_header": "【{case_no} 支援計画】{municipality}／{track}",
    "engage_none_yet": "支援計画はまだ記録されていません。",
    "engage_line": "・{label}: {value}",
    "engage_field_theme": "テーマ",
    "engage_field_goal": "取組目標",
    "engage_field_scope": "支援範囲",
    "engage_field_deliverables": "成果物",
    "engage_field_planned_sessions": "予定回数",
    "engage_field_start_on": "開始日",
    "engage_stage": "現在の段階",
    "engage_stage_none": "未設定",
    "engage_stage_named": "{number}. {name}",
    "engage_blank": "（未記入）",
    "engage_goal_set_on": "（{date}設定）",
    "engage_sessions": "{n}回",
    "engage_held": "（実施済み{n}回）",
    "engage_hint_edit": (
        "記録・変更は「/dx engage {case_no} 目標=…」のように項目を指定して送ってください。"
        "支援計画書（Excel）は「/dx plan {case_no}」で作成します。"
    ),
    "engage_hint_view": "支援計画書（Excel）は「/dx plan {case_no}」でお送りします。",
    "engage_saved_new": "{case_no}の支援計画を記録しました。",
    "engage_saved": "{case_no}の支援計画を更新しました。",
    # --- /dx plan --------------------------------------------------------------------------------
    "plan_usage": "支援計画書の作成は「/dx plan 案件番号」の形で送ってください。",
    "plan_none": (
        "{case_no}の支援計画はまだ記録されていないため、支援計画書を作成できません。"
        "事務局にお問い合わせください。"
    ),
    "plan_none_editor": (
        "{case_no}の支援計画はまだ記録されていません。"
        "「/dx engage {case_no} テーマ=… 目標=…」で記録してから作成してください。"
    ),
    "plan_preparing": "{case_no}の{title}（Excel）を作成しています。できあがり次第お送りします。",
    "plan_ready": "{case_no}の{title}をお送りします。",
    "plan_file_title": "{title}（{municipality}）",
    # --- the document ----------------------------------------------------------------------------
    "plan_title_bpr": "支援計画書",
    "plan_title_accompaniment": "伴走支援計画書",
    "plan_title_dispatch": "派遣支援計画書",
    "plan_title_other": "支援計画書",
    "plan_sheet": "支援計画書",
    "plan_heading": "{title}（{municipality}）",
    "plan_made": "作成日: {date}　{prefecture}",
    "plan_h_program": "事業名",
    "plan_h_municipality": "市町村",
    "plan_h_track": "支援区分",
    "plan_h_case": "案件番号",
    "plan_h_theme": "テーマ",
    "plan_h_goal": "取組目標",
    "plan_h_scope": "支援範囲",
    "plan_h_deliverables": "成果物",
    "plan_h_planned": "予定回数",
    "plan_h_start": "開始日",
    "plan_h_stage": "現在の段階",
    "plan_goal_unset": "未設定",
    "plan_h_sessions": "これまでの支援",
    "plan_col_no": "回",
    "plan_col_date": "実施日",
    "plan_col_method": "方法",
    "plan_col_experts": "専門人材",
    "plan_col_hours": "時間",
    "plan_no_sessions": "実施済みの支援はまだありません。",
    "plan_total": "計 {n}回・{hours}時間",
    # --- /status, JSON and the deck ----------------------------------------------------------------
    "sv_engagements_header": "■ 伴走支援の対象団体（支援計画あり／想定）",
    "sv_engagements_line": "・{track}: {engaged}/{expected}団体{goals}",
    "sv_engagements_goals": "（目標未設定 {n}）",
    "sv_engagements_not_served": "　未支援: {names}",
    "sv_engagements_more": " ほか{n}団体",
    "deck_engagements_title": "伴走支援の対象団体と支援計画",
    "deck_engagements_summary": "{track}: 支援中 {engaged}団体／想定 {expected}団体",
    "deck_engagements_not_served": "未支援の団体（{n}）: {names}",
    "deck_engagements_none": "支援計画が記録された団体はまだありません。",
    "deck_engagements_col_municipality": "市町村",
    "deck_engagements_col_theme": "テーマ",
    "deck_engagements_col_goal": "取組目標",
    "deck_engagements_col_stage": "段階",
    # --- help ------------------------------------------------------------------------------------
    "help_engage_staff": (
        "・伴走支援の支援計画（テーマ・目標・範囲・成果物・回数・開始日）の記録: "
        "「/dx engage 案件番号 テーマ=… 目標=…」、支援計画書（Excel）: 「/dx plan 案件番号」"
    ),
    "help_engage_view": (
        "・伴走支援の支援計画の確認: 「/dx engage 案件番号」、支援計画書（Excel）: "
        "「/dx plan 案件番号」"
    ),
}

# `dxbot plan` speaks English; the document itself stays Japanese.
MESSAGES_EN: dict[str, str] = {
    "engage_no_tracks": "{program} has no track that runs engagements, so there is no plan.",
    "engage_track_none": (
        "Case {case_no} is in the track {track}, which runs no engagements; plans are kept for "
        "cases of {tracks}."
    ),
    "plan_none": (
        "Case {case_no} has no engagement recorded yet; record it in the chat with "
        "`/dx engage {case_no} テーマ=… 目標=…`."
    ),
    "plan_none_editor": (
        "Case {case_no} has no engagement recorded yet; record it in the chat with "
        "`/dx engage {case_no} テーマ=… 目標=…`."
    ),
}
