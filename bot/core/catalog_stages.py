"""Messages of the engagement stages: the follow-up's stage questions, `/dx stage`, the goal
reminder to staff, the `/status` section and the deck's matrix slide. Merged into
bot.core.catalog at import.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "stage_label": "ステップ{number} {name}",
    # --- the follow-up (handlers/followup_stage.py) ---------------------------------------------
    "report_ask_stage": (
        "今回の支援で到達したステップを番号でお選びください（{model}）。"
        "前回と同じ「{current}」のままでよろしければ「1」とお答えください。"
    ),
    "report_ask_stage_first": (
        "今回の支援で到達したステップを番号でお選びください（{model}）。"
        "「{current}」でよろしければ「1」とお答えください。"
    ),
    "stage_choice_same": "前回のまま（{stage}）",
    "report_ask_stage_kpi": "「{stage}」のKPI「{kpi}」は達成されましたか？",
    "stage_choice_yes": "はい",
    "stage_choice_no": "いいえ",
    "report_stage_label": "到達ステップ",
    "report_stage_kpi_label": "KPIの達成",
    "stage_kpi_met": "達成",
    "stage_kpi_not_met": "未達成",
    "stage_kpi_none": "（KPIの定めなし）",
    # --- /dx stage (handlers/stages.py) --------------------------------------------------------
    "stage_usage": (
        "「/dx stage 案件番号 ステップ番号」の形で指定してください。KPIの達成も記録する場合は"
        "末尾に「はい」か「いいえ」を付けてください（例: /dx stage {example} 2 はい）。"
    ),
    "stage_no_model": (
        "この事業の仕様にはステップ（支援の段階）の定めがないため、ステップは記録できません。"
    ),
    "stage_not_engaged": (
        "{case_no}は伴走支援（取組の記録がある案件）ではないため、ステップは記録できません。"
    ),
    "stage_unknown": (
        "「{text}」というステップはありません。{model}のステップは次のとおりです。\n{stages}"
    ),
    "stage_kpi_answer_invalid": (
        "KPIの達成は「はい」か「いいえ」で指定してください（「{text}」は読み取れませんでした）。"
    ),
    "stage_set": "{case_no}（{municipality}）の到達ステップを「{stage}」に更新しました。{kpi}",
    "stage_set_kpi": "KPI: {state}",
    "stage_set_kpi_kept": "KPI: {state}（前回の記録のまま）",
    "stage_set_kpi_unasked": "KPIの達成は未記録です（記録するには末尾に「はい」か「いいえ」）。",
    "stage_set_kpi_no_kpi": "このステップにはKPIの定めがありません。",
    # --- the goal reminder (handlers/stages.py) -------------------------------------------------
    "goal_reminder": (
        "【取組目標の未設定】支援{n}回目を目途に取組目標を設定することになっていますが、"
        "次の市町村はまだ取組目標が記録されていません。市町村と協議のうえ"
        "「/dx engage 案件番号 目標=…」で記録をお願いします:\n{lines}"
    ),
    "goal_reminder_line": "・{case_no} {municipality}（{held}回実施、{n}回目 {day}）",
    # --- /status and decks (reports/stages.py, reports/deck) ------------------------------------
    "sv_section_stages": "■ {model}（対象{total}団体）",
    "sv_stage_line": "・{stage}: {total}団体中 到達{reached}・KPI達成{met}",
    "sv_stage_line_no_kpi": "・{stage}: {total}団体中 到達{reached}",
    "deck_stages_title": "支援段階の到達状況（市町村×ステップ）",
    "deck_stages_summary": "{model}: 対象{total}団体",
    "deck_stages_count": "ステップ{number}: 到達{reached}・KPI達成{met}",
    "deck_stages_legend": "○ 到達・KPI達成　△ 到達（KPI未達成・未確認）　— 未到達",
    "deck_stages_none": "伴走支援の対象市町村はまだ記録されていません。",
    "deck_stages_more": "ほか{n}団体（全件は dxbot status --json の stages）",
    "deck_stages_municipality": "市町村",
    "deck_stages_current": "現在",
}
