"""Messages of the data kept at contract end (issue 17): the Japanese README of the archive
(each file and each column), and the 消去証明 the erasure prints. English CLI text lives in
bot/cli_data.py; these are the words a prefecture reads."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- the archive's README ---------------------------------------------------------------
    "arc_readme_title": "{program}（{program_id}）データ一式 — 契約終了時の引渡し用アーカイブ",
    "arc_readme_intro": (
        "このアーカイブは、事業の支援デスク（dxbot）が保持していた当該事業のデータ一式です。\n"
        "作成日時: {created_at}（日本時間）\n"
        "本ソフトウェアがなくても開けるよう、表形式のデータは CSV（UTF-8・BOM付き、Excel で"
        "そのまま開けます）と JSON の両方で収録しています。CSV では、数式と解釈されうる"
        "セル（= + - @ で始まるもの等）の先頭に ' を付けています。日時はすべて日本時間"
        "（ISO 8601、+09:00）です。\n"
        "manifest.json に全ファイルの SHA-256 と行数を記載しています。"
        "`dxbot archive verify` または任意の sha256 ツールで改ざんの有無を確認できます。\n"
        "本アーカイブには個人情報（氏名・連絡先・相談内容等）が含まれます。"
        "契約・個人情報保護の定めに従って管理してください。"
    ),
    "arc_readme_files": "■ ファイル一覧",
    "arc_readme_columns": "■ {file} の列",
    "arc_readme_file_line": "・{path}: {text}",
    "arc_readme_column_line": "  - {column}: {text}",
    "arc_file_readme": "このファイル（各ファイルと列の説明）",
    "arc_file_manifest": "全ファイルの SHA-256・バイト数・行数（改ざん確認用）",
    "arc_file_profile": "事業の設定（プロファイル：実施区分・期限・リマインド・保存期間等）",
    "arc_file_table": "{text}（CSV と JSON で同じ内容）",
    "arc_file_reports": "支援実施報告書（報告の版ごとの Excel ファイル）",
    "arc_file_plans": "支援計画書・実施プラン（伴走支援ごとの Excel ファイル）",
    "arc_file_attachments": "報告に添付されたファイル（取得できたもの）",
    "arc_table_cases": "相談案件",
    "arc_table_sessions": "支援の回（日時・方法・場所・報告期限）",
    "arc_table_session_reports": "支援実施報告（修正前の版を含む全版）",
    "arc_table_surveys": "満足度アンケートの回答（自由記述を含む）",
    "arc_table_status_history": "相談案件の状態の変更履歴",
    "arc_table_engagements": "伴走支援の記録（テーマ・目標・範囲・成果物）",
    "arc_table_stage_marks": "伴走支援の段階到達と KPI の記録",
    "arc_table_events": "会議・行事（定例会・研修・報告会等）",
    "arc_table_deliverables": "成果物（提出物）とその期限・提出状況",
    "arc_table_people": "関係者（市町村職員・専門人材・事務局・県）",
    "arc_table_audit_log": "操作記録（誰が・いつ・何に・何をしたか）",
    "arc_table_attachments": "添付ファイルの一覧（収録先またはリンク）",
    # Columns: arc_col_<table>_<column> where the meaning is the table's own, else arc_col_<column>.
    "arc_col_id": "この表での連番",
    "arc_col_program_id": "事業 ID",
    "arc_col_case_id": "相談案件の内部番号（cases の id）",
    "arc_col_session_id": "支援の回の番号（sessions の id）",
    "arc_col_case_no": "案件番号",
    "arc_col_track_id": "実施区分の ID（profile.yaml の tracks）",
    "arc_col_municipality_code": "全国地方公共団体コード（6桁）",
    "arc_col_municipality_name": "市町村名",
    "arc_col_created_at": "登録日時",
    "arc_col_updated_at": "最終更新日時",
    "arc_col_is_demo": "デモデータなら true",
    "arc_col_status": "状態",
    "arc_col_place": "場所",
    "arc_col_at": "日時",
    "arc_col_cases_year": "年度",
    "arc_col_cases_seq": "年度内の連番",
    "arc_col_cases_requester_user_id": "相談者（people の id）",
    "arc_col_cases_department": "相談者の所属",
    "arc_col_cases_requester_name": "相談者の氏名",
    "arc_col_cases_requester_title": "相談者の職",
    "arc_col_cases_domains": "相談分野",
    "arc_col_cases_description": "相談内容",
    "arc_col_cases_preferred_method": "希望する支援方法",
    "arc_col_cases_preferred_dates": "希望日",
    "arc_col_cases_stage": "伴走支援の到達段階",
    "arc_col_cases_proposed_expert_user_id": "提案された専門人材（people の id）",
    "arc_col_cases_approved_expert_user_id": "承認された専門人材（people の id）",
    "arc_col_cases_preferred_expert_user_id": "市町村が希望した専門人材（people の id）",
    "arc_col_cases_match_state": "マッチングの状態（proposed: 承認待ち、approved: 承認済）",
    "arc_col_cases_opened_at": "受付日時",
    "arc_col_sessions_starts_at": "開始日時",
    "arc_col_sessions_ends_at": "終了日時",
    "arc_col_sessions_hours": "支援時間（時間）",
    "arc_col_sessions_method": "支援方法（online / onsite / email / phone / chat）",
    "arc_col_sessions_report_due": "報告期限",
    "arc_col_sessions_report_submitted_at": "報告が提出先に届いた日時",
    "arc_col_sessions_report_stage": "報告の状況（open / review / returned / delivered）",
    "arc_col_sessions_report_handed_in_at": "専門人材が報告を提出した日時",
    "arc_col_sessions_report_review_note": "差戻しの理由",
    "arc_col_sessions_municipality_codes": "参加市町村のコード",
    "arc_col_sessions_municipality_names": "参加市町村名",
    "arc_col_sessions_expert_user_ids": "対応した専門人材（people の id）",
    "arc_col_session_reports_version": "報告の版（1 が初版）",
    "arc_col_session_reports_is_current": "最新版なら true",
    "arc_col_session_reports_fields": "報告の内容（項目名と記入内容。市町村ごとの記入は by_municipality）",
    "arc_col_session_reports_report_field": "報告の「{label}」欄（fields から抜き出したもの）",
    "arc_col_session_reports_author_user_id": "報告者（people の id）",
    "arc_col_surveys_respondent_user_id": "回答者（people の id）",
    "arc_col_surveys_satisfaction": "満足度（1〜5）",
    "arc_col_surveys_resolved": "課題の解決度",
    "arc_col_surveys_comment": "自由記述",
    "arc_col_surveys_requested_at": "依頼日時",
    "arc_col_surveys_answered_at": "回答日時",
    "arc_col_status_history_from_status": "変更前の状態",
    "arc_col_status_history_to_status": "変更後の状態",
    "arc_col_status_history_actor_user_id": "変更した人（people の id）",
    "arc_col_status_history_actor_label": "変更した人の表示名",
    "arc_col_status_history_reason": "理由",
    "arc_col_engagements_theme": "テーマ",
    "arc_col_engagements_goal": "取組目標",
    "arc_col_engagements_scope": "対象範囲",
    "arc_col_engagements_deliverables": "合意した成果物",
    "arc_col_engagements_planned_sessions": "予定回数",
    "arc_col_engagements_start_on": "開始日",
    "arc_col_engagements_goal_set_at": "目標を合意した日時",
    "arc_col_engagements_created_by": "記録した人",
    "arc_col_stage_marks_stage": "段階",
    "arc_col_stage_marks_kpi_met": "KPI 達成なら true（未確認は空欄）",
    "arc_col_stage_marks_recorded_by": "記録した人",
    "arc_col_stage_marks_recorded_at": "記録日時",
    "arc_col_events_kind": "種類（profile.yaml の events）",
    "arc_col_events_held_on": "開催日",
    "arc_col_events_attendees": "出席者",
    "arc_col_events_notes": "メモ",
    "arc_col_events_created_by": "記録した人",
    "arc_col_deliverables_spec_id": "成果物の種類（profile.yaml の deliverables）",
    "arc_col_deliverables_period": "対象期間（月次なら年月、会議ごとなら会議の番号）",
    "arc_col_deliverables_title": "名称",
    "arc_col_deliverables_due_on": "提出期限",
    "arc_col_deliverables_event_id": "対象の会議（events の id）",
    "arc_col_deliverables_done_at": "提出日時",
    "arc_col_deliverables_done_by": "提出を記録した人",
    "arc_col_people_platform": "チャットの種類（slack / logo / console）",
    "arc_col_people_platform_id": "チャット上の利用者 ID",
    "arc_col_people_role": "役割（officer: 市町村職員、expert: 専門人材、staff: 事務局、"
    "prefecture: 県、admin: 管理者）",
    "arc_col_people_name": "氏名",
    "arc_col_people_title": "職",
    "arc_col_people_department": "所属",
    "arc_col_people_email": "メールアドレス",
    "arc_col_people_active": "利用中なら true",
    "arc_col_people_program_member": "この事業の登録者なら true（記録に名前があるだけなら false）",
    "arc_col_people_expert_domains": "専門分野（専門人材）",
    "arc_col_people_expert_qualifications": "資格（専門人材）",
    "arc_col_people_expert_onsite": "現地対応の可否（専門人材）",
    "arc_col_people_expert_region": "対応地域（専門人材）",
    "arc_col_people_expert_availability": "対応可能な日時（専門人材）",
    "arc_col_people_expert_strengths": "得意分野の説明（専門人材）",
    "arc_col_people_expert_consent_listed": "一覧への掲載に同意していれば true（専門人材）",
    "arc_col_audit_log_actor": "操作した人（system は自動処理、cli はコマンド）",
    "arc_col_audit_log_action": "操作の種類（case_opened: 受付、case_status_changed: 状態変更、"
    "session_scheduled: 日程登録、session_cancelled: 中止、session_moved: 日程変更、"
    "report_submitted / report_amended: 報告の提出・修正、report_approved / report_returned: "
    "報告の承認・差戻し、user_added / user_removed: 利用者の登録・削除 等）",
    "arc_col_audit_log_object_type": "対象の種類（case / session / user / program）",
    "arc_col_audit_log_object_id": "対象（案件番号、支援の回の番号、利用者 ID 等）",
    "arc_col_audit_log_detail": "内容（変更前後の値・理由等）",
    "arc_col_attachments_filename": "ファイル名",
    "arc_col_attachments_content_type": "ファイルの種類",
    "arc_col_attachments_url": "元のリンク",
    "arc_col_attachments_archived_as": "このアーカイブ内のパス（空欄なら取得できずリンクのみ）",
    # --- the erasure record (消去証明) --------------------------------------------------------
    "erase_cert_title": "消去証明書（データ消去記録）",
    "erase_cert_body": (
        "事業名: {program}（{program_id}）\n"
        "消去日時: {at}（日本時間）\n"
        "実施者: {actor}\n"
        "消去前に作成したアーカイブの SHA-256: {archive}\n"
        "上記事業について、支援デスク（dxbot）のデータベースから個人情報（氏名・連絡先・"
        "相談内容・報告・アンケートの自由記述・添付ファイル・会話の途中状態・送受信メッセージ"
        "の本文・操作記録の詳細・Web 閲覧のリンクとセッション）を消去しました。"
        "残したのは個人を特定できない件数の集計のみです。\n"
        "注意: 消去より前に取得したバックアップ（データベースのダンプ、サーバのスナップショット"
        "等）には消去したデータが残っています。保管先を確認のうえ、当該バックアップを削除・"
        "媒体を破棄してください。"
    ),
}
