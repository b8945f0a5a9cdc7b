"""Deck wording of the completion and monthly reports (issue 15): the titles that state each
slide's finding, the interim (中間) marking, the shortfalls against the profile's rules, the
section kinds of the programs' own outlines (業務日報, per-municipality progress, survey comments,
stage KPIs), the chart axes and the issue categories."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- interim / final -------------------------------------------------------------------
    "deck_interim_mark": "（中間）",
    "deck_interim_note": (
        "中間報告: {date}時点（期間の{pct}%経過）。目標は経過日数に応じた目安と比べています"
    ),
    "deck_kpi_note_own": "{date}時点の実施済件数（中止・契約期間外を除く）と予定件数",
    # --- titles that state the finding -----------------------------------------------------
    "deck_find_sep": "、",
    "deck_find_goal_interim": "{name}は目安{expected}件に対し{held}件",
    "deck_find_goal": "{name}は目標の{rate}%",
    "deck_find_goal_met": "{name}は目標を達成",
    "deck_find_minimum_met": "{name}は最低回数を達成",
    "deck_find_minimum_left": "{name}は最低回数まで残り{n}回",
    "deck_find_minimum_unmet": "{name}は最低回数に{n}回不足",
    "deck_find_count": "{name}は{held}回",
    "deck_find_trend": "月別の実施: 最多は{month}月の{n}件（累計{total}件）",
    "deck_find_trend_none": "対象期間に実施した支援はありません",
    "deck_find_domains": "相談の分野は「{top}」が最多（{n}件、全{total}件）",
    "deck_find_munis": "対象{total}団体のうち{covered}団体（{rate}%）で支援を実施",
    "deck_find_experts": "専門人材{n}名が担当、担当回数は最多{max}回・最少{min}回",
    "deck_find_highlights": "支援実施報告から効果{n}件を確認",
    "deck_find_issues": "課題は「{top}」が最多（{n}件）",
    "deck_find_surveys": "アンケート{n}件、満足度は平均{avg}（5段階）",
    "deck_find_joint": "合同支援{n}回（{munis}団体）",
    "deck_find_joint_none": "合同支援の実績はまだありません",
    "deck_find_engagements": "{track}: 想定{expected}団体のうち{engaged}団体で取組中",
    "deck_find_stages": "{model}: 全{total}団体のうち最終段階到達{last}団体",
    "deck_find_events": "会議・行事{held}回、成果物{done}/{total}件提出",
    "deck_find_daily": "業務日報{n}件（支援実施報告より）",
    "deck_find_progress": "{n}団体の進捗状況・課題事項・対策・対応状況",
    "deck_find_comments": "アンケートの自由記述{n}件（個人名等は伏せています）",
    "deck_find_stage_kpis": "KPI達成: {items}",
    "deck_find_stage_kpi_item": "{label} {met}団体",
    "deck_daily_more": (
        "{first}以降の{shown}件を掲載（それ以前の{n}件は業務日報の出力（Excel・CSV）に収録しています）"
    ),
    # --- sections with no data, in one line -------------------------------------------------
    "deck_none_daily": "対象期間に提出された業務日報（支援実施報告）はありません",
    "deck_none_progress": "対象期間に支援を実施した市町村はありません",
    "deck_none_comments": "アンケートの自由記述はまだありません",
    "deck_none_stage_kpis": "ステップの記録はまだありません",
    # --- shortfalls against the profile's rules -----------------------------------------------
    "deck_short_title": "仕様書の要件に対する未達・遅延",
    "deck_short_minimum": "{name}: 最低{minimum}回に対し{held}回（{n}回不足）",
    "deck_short_minimum_left": "{name}: 最低{minimum}回まで残り{n}回（残り{days}開庁日）",
    "deck_short_onsite": "{names}の訪問: {minimum}回以上に対し{onsite}回（{ref}）",
    "deck_short_expected": "{track}: 想定{expected}団体に対し{engaged}団体",
    "deck_short_late_reports": "支援実施報告: 期限後の提出{late}件、期限超過で未提出{overdue}件",
    "deck_short_deliverables": "成果物: 期限を過ぎた未提出{n}件（{items}）",
    "deck_short_none": "仕様書の要件に対する未達・遅延はありません",
    # --- 業務日報 and per-municipality progress columns ------------------------------------------
    "deck_col_when": "日時・場所",
    "deck_col_attendees": "市町村職員",
    "deck_col_summary_response": "相談概要・対応内容",
    "deck_col_issues_policy": "課題・対応方針",
    "deck_col_next_plan": "次回予定",
    "deck_col_progress": "進捗状況",
    "deck_col_issue_items": "課題事項",
    "deck_col_measures": "対策",
    "deck_col_status_now": "対応状況",
    "deck_col_comment": "自由記述",
    "deck_col_satisfaction": "満足度",
    "deck_col_stage": "ステップ",
    "deck_col_kpi": "KPI",
    "deck_col_reached": "到達",
    "deck_col_kpi_met": "KPI達成",
    "deck_progress_cell": "{n}回実施（最新 {date}）{stage}",
    "deck_status_cell": "報告{state}。次回: {next}",
    "deck_when_cell": "{date} {time}\n{place}",
    # --- the structure, roadmap and pool, from the data ---------------------------------------
    "deck_structure_people": (
        "支援を担当した専門人材: {experts}名、支援を受けた市町村: {munis}団体"
    ),
    "deck_pool_line": "専門人材{n}名（担当回数 最多{max}回・最少{min}回・平均{mean}回）",
    "deck_pool_domains": "対応した分野: {domains}",
    "deck_pool_unassigned": "担当のない専門人材: {n}名（分野の需要と照らして配置を見直す）",
    "deck_joint_onsite_unmet": "⚠ {names}の訪問が{minimum}回以上に達していません（{onsite}回、{ref}）",
    "deck_roadmap_overdue": "未提出の報告{n}件の提出",
    "deck_roadmap_top": "需要の多い分野（{top}）の支援メニュー化",
    "deck_next_uncovered_term": "期間中まだ支援実績のない{n}団体への働きかけ",
    # --- charts -------------------------------------------------------------------------------
    "deck_axis_sessions": "実施件数（件）",
    "deck_axis_cases": "相談件数（件）",
    "deck_axis_answers": "回答数（件）",
    "deck_axis_assigned": "担当回数（回）",
    "deck_axis_month": "月",
    "deck_series_target_line": "目標",
    # --- issues grouped by category ------------------------------------------------------------
    "deck_issue_category": "{category}: {n}件（例: {example}）",
    "deck_issue_other": "その他",
}
