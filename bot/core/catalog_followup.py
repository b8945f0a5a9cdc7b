"""Japanese messages of the follow-up, reminder and survey journeys (merged into bot.core.catalog)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- follow-up / report -------------------------------------------------------------------
    "report_intro": (
        "{case_no}の支援実施報告を作成します（提出期限: {due}）。わかっている内容は入力済みです:"
    ),
    "report_amend_note": "提出済みの報告を修正します。修正前の版は履歴として残ります。",
    "report_notes_hint": (
        "メモをまとめて貼り付けていただいても構いません（「課題：」「効果：」のように見出しを付けると確実です）。"
        "足りない項目だけをお尋ねします。"
    ),
    "report_ask_attendees": "市町村側の出席者を、所属・役職・氏名で教えてください（例: 情報政策課 主査 山田花子）。",
    "report_ask_summary": "相談の概要を教えてください。",
    "report_ask_response": "どのように回答・助言しましたか？",
    "report_ask_issues": "把握された課題やその内容を教えてください。",
    "report_ask_policy": "合意した今後の対応方針を教えてください。",
    "report_ask_effect": "支援によって得られた効果を教えてください。",
    "report_ask_materials": (
        "使用した資料やツールを教えてください（ファイルを添付していただくと報告に添えます）。なければ「なし」。"
    ),
    "report_ask_next_plan": "次回の支援予定を教えてください。なければ「なし」。",
    "report_ask_hours": (
        "支援時間は{hours}時間でよろしいですか？よろしければ「はい」、違う場合は時間数を数字で送ってください（例: 2.5）。"
    ),
    "report_hours_invalid": "支援時間は 0〜24 の数字で入力してください（例: 2.5）。",
    "report_field_required": "「{label}」は報告に必要な項目です。入力をお願いします。",
    "report_summary": "以下の内容で報告を提出します。よろしいですか？",
    "report_choice_submit": "この内容で提出する",
    "report_choice_later": "あとで続ける",
    "report_submitted": "{case_no}の支援実施報告を提出しました（第{version}版）。ありがとうございました。",
    "report_amended": "{case_no}の支援実施報告を修正しました（第{version}版）。",
    "report_posted_staff": "【報告】{case_no}の支援実施報告（第{version}版）が{expert}さんから提出されました。",
    "report_not_found": (
        "「{ref}」に当たる、ご担当の支援が見つかりませんでした。"
        "「/report」とご入力いただくと、報告が必要な支援の一覧をご確認いただけます。"
    ),
    "report_session_missing": "対象の支援が見つかりませんでした。事務局にお問い合わせください。",
    "report_none_pending": "未提出の支援実施報告はありません。ありがとうございます。",
    "report_pick": "どの支援の報告を作成しますか？",
    "report_pick_item": "{case_no}（{when}実施・期限{due}・支援ID {session_id}）",
    "report_pick_draft": "【入力途中】",
    "report_pick_amending": "修正の途中の報告は「/report amend」とご入力いただくと再開できます。",
    "report_pick_amend": "どの支援の報告を修正しますか？（新しい順）",
    "report_pick_amend_item": "{case_no}（{when}実施・支援ID {session_id}）",
    "report_none_to_amend": "修正できる提出済みの支援実施報告はありません。",
    "report_snoozed": "承知しました。{day}の朝に改めてお知らせします（最も近い期限: {due}）。",
    "report_snooze_due": (
        "報告期限（{due}）を迎えているため、これ以上は延ばせません。"
        "本日中のご提出をお願いします（「/report」ですぐに始められます）。"
    ),
    "report_llm_instructions": (
        "あなたは自治体DX支援の報告書作成の補助者です。専門人材のメモから、支援実施報告の各項目を抽出して JSON で返してください。"
        "項目: attendees（市町村側出席者）、summary（相談概要）、response（回答・助言内容）、issues（課題）、"
        "policy（今後の方針）、effect（効果）、materials（資料）、next_plan（次回予定）。書かれていない項目は空文字にしてください。"
    ),
    "reason_session_ended": "支援の終了時刻を過ぎたため",
    # --- pings ------------------------------------------------------------------------------
    "ping_line": "・{case_no}（{day}実施）期限 {due} — {state}（支援ID {session_id}）",
    "ping_state_left": "あと{days}開庁日",
    "ping_state_today": "本日が期限",
    "ping_state_overdue": "{days}開庁日超過",
    "ping_start": "{case_no}（{when}）の報告を始める",
    "ping_expert_first": (
        "ご支援いただきありがとうございました。支援実施報告の作成をお願いいたします:\n{lines}\n"
        "下のボタンを押すか「/report」とご入力いただくと始められます。"
        "「あとで」とお送りいただくと、次の開庁日の朝までお知らせを控えます。"
    ),
    "ping_expert": (
        "未提出の支援実施報告があります:\n{lines}\n"
        "下のボタンを押すか「/report」とご入力いただくと始められます。"
        "「あとで」とお送りいただくと、次の開庁日の朝までお知らせを控えます（期限日を越えては控えません）。"
    ),
    "ping_expert_overdue": (
        "提出期限を過ぎた支援実施報告があります:\n{lines}\n"
        "お手数ですが、下のボタンを押すか「/report」とご入力いただき、早めのご提出をお願いいたします。"
    ),
    "ping_staff": "【報告遅延】支援実施報告が期限を過ぎています:\n{lines}",
    "ping_prefecture": "【報告遅延（県へのお知らせ）】次の支援実施報告が期限を過ぎています。事務局が督促しています:\n{lines}",
    "monthly_before": "{year}年{month}月分の月例業務報告の期限は{due}です。準備をお願いします。",
    "monthly_due": "本日{due}は{year}年{month}月分の月例業務報告の期限です。",
    "monthly_due_closed": (
        "{year}年{month}月分の月例業務報告の期限は{due}（閉庁日）です。本日が期限前の最後の開庁日です。"
    ),
    # --- survey -----------------------------------------------------------------------------
    "survey_request": (
        "{case_no}（{day}実施）の支援について、簡単なアンケートにご協力ください（3問・1分程度）。"
    ),
    "survey_reminder": (
        "{case_no}（{day}実施）の支援についてのアンケートへのご回答をお待ちしております。"
        "ご協力をお願いいたします。"
    ),
    "survey_choice_start": "アンケートに答える",
    "survey_intro": "{case_no}（{day}実施）の支援についてのアンケートです。",
    "survey_ask_satisfaction": "満足度を5段階で教えてください（5: とても満足 〜 1: 不満）。",
    "survey_point_1": "1（不満）",
    "survey_point_2": "2（やや不満）",
    "survey_point_3": "3（ふつう）",
    "survey_point_4": "4（満足）",
    "survey_point_5": "5（とても満足）",
    "survey_ask_resolved": "ご相談の課題は解決しましたか？",
    "survey_resolved_resolved": "解決した",
    "survey_resolved_partly": "一部解決した",
    "survey_resolved_not_yet": "まだ解決していない",
    "survey_ask_comment": "ご意見・ご感想があればお書きください。なければ「なし」。",
    "survey_thanks": "ご回答ありがとうございました。今後の支援の改善に活用します。",
    "survey_thanks_closed": (
        "ご回答ありがとうございました。今後の支援の改善に活用します。"
        "案件 {case_no} はこれで完了となりました。"
    ),
    "survey_already": "このアンケートには回答済みです。ありがとうございました。",
    "survey_nothing": "回答いただくアンケートはありません。",
    "survey_received_staff": "【アンケート】{case_no}: 満足度{satisfaction}、{resolved}",
    "reason_survey_in": "アンケート回答済み",
    "reason_survey_grace": "アンケートの回答期間が過ぎたため",
    # --- where the report goes (track.report in the profile) and the staff's review -----------
    "report_per_municipality_note": (
        "この報告は市町村ごとに作成します（{names}）。共通の内容を一度お尋ねした後、"
        "市町村ごとに異なる項目（出席者・課題・対応方針）をお尋ねします。"
    ),
    "report_ask_for_municipality": "【{name}】",
    "report_municipality_label": "{label}（{name}）",
    "report_returned_note": "事務局から差し戻されています。理由: {reason}",
    "report_posted_prefecture": (
        "【報告】{case_no}の{title}（第{version}版）を提出します（ファイル{count}件）。"
    ),
    "report_handed_in_review": (
        "{case_no}の支援実施報告を受け付けました（第{version}版）。"
        "事務局の確認後、{receiver}へ提出されます。"
    ),
    "review_receiver_prefecture": "県",
    "review_receiver_staff": "事務局",
    "review_request_staff": (
        "【確認依頼】{case_no}の{title}（第{version}版）が{expert}さんから提出されました。"
        "内容を確認し、承認（{receiver}へ提出）または差戻しをお願いします（提出期限: {due}）。"
    ),
    "review_show": (
        "{case_no}の{title}（第{version}版、{expert}さん提出、提出期限: {due}）です。"
        "承認または差戻しを選んでください。"
    ),
    "choice_review_approve": "承認",
    "choice_review_return": "差戻し",
    "review_ask_reason": (
        "{case_no}の報告を差し戻す理由を入力してください。専門人材にそのままお伝えします。"
    ),
    "review_reason_required": "差戻しの理由を入力してください。",
    "review_returned_staff": (
        "{case_no}の報告（第{version}版）を差し戻しました。専門人材に再提出をお願いしました。"
    ),
    "review_returned_expert": (
        "{case_no}の支援実施報告（第{version}版）が事務局から差し戻されました。\n理由: {reason}\n"
        "修正のうえ、再度提出をお願いします（提出期限: {due}）。"
    ),
    "review_choice_rewrite": "報告を修正する",
    "review_approved_staff": (
        "{case_no}の報告（第{version}版）を承認し、{receiver}へ提出しました。"
    ),
    "review_approved_expert": (
        "{case_no}の支援実施報告（第{version}版）が承認され、{receiver}へ提出されました。"
        "ありがとうございました。"
    ),
    "review_nothing": (
        "「{ref}」の報告は確認待ちではありません（処理済みか、新しい版が提出されています）。"
        "「/dx review」で確認待ちの一覧を表示できます。"
    ),
    "review_none": "確認待ちの報告はありません。",
    "review_pick": "確認待ちの報告です。確認する報告を選んでください。",
    "review_pick_item": "{case_no}（支援ID {session_id}・{day}実施・期限{due}）",
    "review_open_choice": "{case_no}を確認",
    "ping_staff_review": (
        "【確認待ち】次の支援実施報告が事務局の確認を待っています。承認または差戻しをお願いします:\n"
        "{lines}"
    ),
}
