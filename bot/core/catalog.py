"""The Japanese message catalogue: every user-facing chat string lives here, keyed by name.

Handlers never hold Japanese text; they name a message and pass its parameters. A missing key
or parameter is a programming error and fails loudly in tests rather than showing half a message.

Wording rules (reviewed for issue 19; every catalogue module follows them):
1. Polite business Japanese: です・ます throughout, never plain or casual forms (「〜だよ」
   「〜のようです」 for a fact the bot knows, 「〜してね」).
2. 尊敬語 for what others do (ご入力ください, ご確認いただけます, ご担当の, 貴団体), 謙譲語 for
   what the bot or the office does (お送りいたします, 承ります, 保存いたします).
3. Never 「あなた」: name the person's role or leave the subject out (「ご担当の支援」).
   (The LLM instructions, which address the model, are the one exception.)
4. An apology is 「申し訳ありません」, never 「すみません」.
5. A command is quoted with a verb: 「「/dx help」とご入力ください」, not a bare 「「/dx help」。」.
6. No doubled brackets: a reason goes inside the one pair (「（自動・理由: …）」).
7. Counters: 件 for cases, reports and items; 回 for sessions held; 開庁日 for working days;
   時間 for hours.
8. A new case is 「登録しました」, never a change from 「（新規）」.
9. Outside experts are thanked (「ご支援いただきありがとうございました」), never told
   「お疲れさまでした」.
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
    "program_which": (
        "複数の事業に登録されています。どの事業についてのご用件ですか？"
        "（選んだ事業は「/dx program」で切り替えられます）"
    ),
    "program_chosen": "{program}（{program_id}）のご用件として承ります。",
    "program_only_one": "ご利用いただける事業は{program}（{program_id}）のみです。",
    "program_switch": (
        "事業の選択を取り消しました。次のご用件の前に、どの事業についてか伺います。"
    ),
    "console_clock_inside_term": (
        "この事業は{last}で終了しています。すべての操作を試せるよう、"
        "このコンソールの時計は事業期間内の{now}に設定しています。"
    ),
    "console_conversation_waiting": (
        "入力途中の「{flow}」があります。続きをご入力ください"
        "（中断する場合は「あとで」、取りやめる場合は「キャンセル」とご入力ください）。"
    ),
    "console_switched": "利用者を {user}（{role}）に切り替えました。",
    "console_users": "登録済みの利用者:\n{lines}",
    "help_header": "{role}としてできること:",
    # One line per command (handlers/help.py HELP_LINES says which permission each needs; a
    # test compares the help of each role with bot/core/permissions.py).
    "help_cmd_consult": "・相談の申し込み: 「/consult」と入力するか、相談内容をそのまま送信してください",
    "help_cmd_consult_staff": "・相談の受付代行: 「/consult」",
    "help_cmd_status_program": "・事業全体の進捗: 「/status」、個別の案件: 「/status 案件番号」",
    "help_cmd_status": "・状況の確認: 「/status」",
    "help_cmd_status_officer": "・貴団体の相談の状況: 「/status」、個別の案件: 「/status 案件番号」",
    "help_cmd_status_expert": "・ご担当の支援の一覧と未提出の報告: 「/status」",
    "help_cmd_withdraw": "・相談の取下げ: 「/dx withdraw 案件番号 理由」",
    "help_cmd_report": (
        "・支援実施報告の作成: 「/report」（支援の終了後にご依頼が届きます。"
        "中断した報告も「/report」で再開できます）、提出済みの報告の修正: 「/report amend」"
    ),
    "help_cmd_survey": "・支援後のアンケートへの回答（ご依頼が届きます）: 「/dx survey」",
    "help_cmd_match": "・マッチング: 「/dx match 案件番号」（候補から選ぶか「/dx pick 案件番号 ユーザーID」）",
    "help_cmd_schedule": (
        "・日程の登録: 「/dx schedule 案件番号 日付 開始時刻 時間 方法」"
        "（方法: オンライン・訪問・メール・電話・チャット。メール等で回答済みの相談は回答した日時で記録）"
    ),
    "help_cmd_cancel_move": (
        "・支援の中止: 「/dx cancel 支援ID 理由」、日時の変更: 「/dx move 支援ID 日付 開始時刻」"
        "（支援IDは「/status 案件番号」で確認できます）"
    ),
    "help_cmd_hold": "・相談の保留と再開: 「/dx hold 案件番号 理由」「/dx resume 案件番号」",
    "help_cmd_close": (
        "・相談の完了: 「/dx close 案件番号」（今後の支援があれば、中止してよいか確認します）"
    ),
    "help_cmd_track": "・区分の変更（相談 → 派遣など）: 「/dx track 案件番号 区分ID」",
    "help_cmd_review": "・確認待ちの支援実施報告の承認・差戻し: 「/dx review」",
    "help_cmd_stage": "・伴走支援の到達ステップの修正: 「/dx stage 案件番号 ステップ番号 はい|いいえ」",
    "help_cmd_approve": (
        "・派遣人材の承認: 「/dx approve 案件番号」、差戻し: 「/dx reject 案件番号 理由」"
        "（承認依頼のボタンからも操作できます）"
    ),
    "help_cmd_deck": "・報告資料（PowerPoint）の作成: 「/deck」",
    "help_cmd_deck_officer": "・貴団体の支援実績の資料（PowerPoint）の作成: 「/deck」",
    "help_cmd_export": "・一覧の出力: 「/dx export cases」（sessions・reports も可）",
    "help_cmd_casebook": "・事例集の作成: 「/dx casebook」（市町村名入り: 「/dx casebook names」）",
    "help_cmd_due": "・開庁日と報告期限の確認: 「/dx due 2026-12-25」",
    "help_cmd_users": "・利用者の登録・一覧・削除: コマンドライン「dxbot users add|list|remove」",
    "help_footer": (
        "入力の途中で中断する場合は「あとで」、取りやめる場合は「キャンセル」とお送りください。"
    ),
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
        "申し訳ありません。ご用件を読み取れませんでした。相談のお申し込みは「/consult」と、"
        "使い方の確認は「/dx help」とご入力ください。"
    ),
    "forbidden": "申し訳ありませんが、{role}の権限ではこの操作はできません。",
    "internal_error": (
        "申し訳ありません、処理中に問題が起きました。入力内容は保存されていません。"
        "少し待ってからもう一度お試しください。続く場合は事務局にお知らせください。"
    ),
    # The one answer to a numbered question that names no choice (bot.core.choices).
    "choice_hint": "1〜{count}の番号か、「{example}」のように選択肢の言葉でお答えください。",
    "choice_hint_one": "「1」か「{example}」とお答えください。",
    # --- conversations ----------------------------------------------------------------------
    "conversation_expired": (
        "前回の「{flow}」の入力は、時間が経ったため取り消しました"
        "（この入力による登録や提出は行われていません）。"
        "必要でしたら、お手数ですがもう一度はじめからお願いいたします。"
    ),
    "conversation_cancelled": "「{flow}」を取り消しました。入力内容は保存していません。",
    "nothing_to_cancel": "取り消す手続きはありません。",
    "conversation_paused": (
        "「{flow}」の入力を中断し、ここまでの内容を保存しました（{until}まで保存いたします）。"
    ),
    "conversation_resume_with": "続きは「{command}」とご入力いただくと、中断したところから再開できます。",
    "conversation_resumed": "中断していた「{flow}」を、中断したところから再開します。",
    "conversation_resume_choose": "続けて、次の中からお選びください。",
    # --- generic -------------------------------------------------------------------------
    "case_not_found": "案件「{case_no}」は見つかりませんでした。番号をご確認ください。",
    "date_invalid": (
        "「{text}」を日付として読み取れませんでした。2026-12-25 のように入力してください。"
    ),
    "due_answer": ("{day}に実施した支援の報告期限は、{n}開庁日後の{due}です。{note}"),
    "question_open_day": "{day}は開庁日です。",
    "question_closed_day": "{day}は{reason}のため閉庁日です。次の開庁日は{next}です。",
    "question_deadline_rule": (
        "支援実施報告の提出期限は、支援を実施した日から{n}開庁日後です。"
        "日付を添えてお尋ねいただくか（例: 「12月3日に実施した支援の報告期限は？」）、"
        "「/dx due 2026-12-03」とご入力いただくと期限日をお答えします。"
    ),
    "due_note_closed": "（{day}は{reason}で閉庁日のため、翌開庁日から数えています）",
    # --- intake ---------------------------------------------------------------------------
    "ask_municipality": "相談される団体名（市町村名）を教えてください。",
    "ask_municipality_ambiguous": "どちらの団体のご相談ですか？（{prefecture}内）",
    "municipality_other": "それ以外（団体名を入力）",
    "municipality_unknown": (
        "「{text}」に当たる{prefecture}内の市町村が見つかりませんでした。"
        "「○○市」「○○町」のように正式な名称で入力してください。"
    ),
    # a municipality of another prefecture (store.reference.outside_prefecture)
    "municipality_outside": (
        "「{text}」は{where}の市町村のため、{prefecture}の本事業では扱えません。"
        "{prefecture}内の市町村を指定してください。"
    ),
    "municipality_not_yours": (
        "ご所属の団体以外の相談は、その団体の職員の方か事務局からお申し込みください。"
    ),
    "ask_department": "ご担当の部署名を教えてください（例: 総務課DX推進係）。",
    "ask_requester_name": "ご担当者のお名前を教えてください。",
    "ask_requester_title": "ご担当者の役職を教えてください（例: 主査）。",
    "ask_description": "ご相談の内容を、現状と困っていることがわかるように書いてください。",
    "ask_domains": (
        "相談の分野を番号で選んでください（複数ある場合は「1,3」のように）。"
        "わからなければ「わからない」で構いません。"
    ),
    "domains_unknown": "分野を読み取れませんでした。1〜{count}の番号か、分野名で入力してください。",
    "domains_staff_decides": "（事務局で分類）",
    "ask_method": "希望する相談の方法を選んでください。",
    "ask_dates": (
        "ご希望の日時を教えてください（例:「12月3日 午後」「来週火曜 14時〜」）。"
        "未定なら「未定」と送ってください。"
    ),
    "dates_unreadable": (
        "「{text}」から日付を読み取れませんでした。「12月3日 午後」「2026/12/3 14時」"
        "のように書くか、「未定」と送ってください。"
    ),
    "date_past": "※ {day}は過ぎた日付です。ご確認ください。",
    "date_closed": "※ {day}は{reason}のため閉庁日です。ご確認ください。",
    "answer_empty": "入力が空でした。",
    "answer_too_long": "{label}は{limit}文字以内でお願いします。",
    "intake_summary": "以下の内容で相談を申し込みます。よろしいですか？",
    "choice_submit": "この内容で申し込む",
    "choice_edit": "修正する",
    "choice_cancel": "やめる",
    "ask_edit_field": "どの項目を修正しますか？",
    "intake_form_title": "相談の申し込み",
    "intake_form_submit": "確認へ進む",
    "intake_form_opening": "申し込みフォームを開きます。",
    "case_opened": (
        "相談を受け付けました。案件番号は {case_no}（{municipality}）です。"
        "事務局が内容を確認し、専門人材との調整を始めます。進み具合は「/status {case_no}」で確認できます。"
    ),
    # --- lifecycle ------------------------------------------------------------------------
    # {reason} is empty or 「・理由: …」 inside the brackets (never a second pair of brackets).
    "status_changed": "【{case_no}】状態が「{frm}」から「{to}」に変わりました（{actor}{reason}）",
    "status_created": "【{case_no}】新しい相談を「{to}」として登録しました（{actor}{reason}）",
    "status_reason": "・理由: {reason}",
    "officer_told_received": "相談（{case_no}）を事務局で受け付けました。",
    "officer_told_coordinating": "相談（{case_no}）について、事務局が専門人材との調整を始めました。",
    "officer_told_scheduled": "相談（{case_no}）の支援日程が決まりました。詳細は「/status {case_no}」でご確認ください。",
    "officer_told_reported": "相談（{case_no}）の支援実施報告が提出されました。",
    "officer_told_closed": "相談（{case_no}）は完了しました。ご利用ありがとうございました。",
    "officer_told_withdrawn": "相談（{case_no}）は取り下げられました。",
    "officer_told_on_hold": "相談（{case_no}）は保留になりました。",
    "officer_told_resumed": "相談（{case_no}）の保留を解除し、「{status}」に戻しました。",
    "illegal_transition": (
        "{case_no}は「{frm}」のため「{to}」にはできません。次にできる状態: {allowed}"
    ),
    "case_withdrawn": "{case_no}を取り下げました。",
    "status_set": "{case_no}を「{to}」にしました。",
    "reject_ask_reason": (
        "{case_no}の派遣人材（{name}さん）の案を差し戻します。事務局が次の案を検討できるよう、"
        "差し戻しの理由をご入力ください（取りやめる場合は「キャンセル」）。"
    ),
    "reject_reason_required": (
        "差し戻しの理由をご入力ください。例: 「/dx reject 案件番号 日程が合わないため」"
    ),
    "status_resumed": "{case_no}の保留を解除し、保留前の「{to}」に戻しました。",
    "resume_not_on_hold": "{case_no}は保留中ではありません（現在の状態: {status}）。",
    "track_unknown": "区分「{text}」はありません。使える区分: {tracks}",
    "track_set": "{case_no}の区分を「{track}」にしました。",
    # --- matching -----------------------------------------------------------------------------
    "proposal_header": "{case_no}の候補の専門人材です（分野の一致・訪問可否・空き・派遣回数の少なさの順）:",
    "proposal_line": "{rank}. {name} — {reasons}",
    "approver_prefecture": "\n※この事業では、選んだ人材は県の承認を経て確定します。",
    "reason_domains": "分野一致: {domains}",
    "reason_no_domain": "分野一致なし",
    "reason_onsite": "訪問可",
    "reason_free": "希望日に空きあり",
    "reason_busy": "希望日は予定あり",
    "reason_load": "今年度の担当{n}回",
    "reason_fewest": "（最少）",
    "no_candidates": "{case_no}に合う専門人材が見つかりませんでした（訪問対応できる人材がいない等）。",
    "case_closed_for_matching": "{case_no}は完了または取下げ済みのため、マッチングできません。",
    "expert_unknown": "専門人材「{text}」は登録されていません。",
    "expert_not_onsite": "{name}さんは訪問対応ができないため、訪問希望の{case_no}には選べません。",
    "awaiting_approval": "{case_no}の担当に{name}さんを選びました。県の承認をお待ちください。",
    "approval_request": (
        "【承認依頼】{case_no}の派遣人材として{name}さんが提案されました。\n相談内容: {desc}\n"
        "承認する場合は「/dx approve {case_no}」、差し戻す場合は「/dx reject {case_no} 理由」と"
        "ご入力ください。"
    ),
    "choice_approve": "承認する",
    "choice_reject": "差し戻す",
    "match_done": (
        "{case_no}の担当を{name}さんに決めました。日程は「/dx schedule {case_no} 2026-12-03 14:00 "
        "3 onsite 場所」のように登録してください。"
    ),
    "match_approved_staff": (
        "{case_no}の担当が{name}さんに確定しました。「/dx schedule {case_no} 日付 開始時刻 時間 "
        "方法 場所」で日程を登録してください。"
    ),
    "match_rejected_staff": "{case_no}の{name}さんの提案は県から差し戻されました: {reason}",
    "approved_reply": "{case_no}の{name}さんを承認しました。",
    "rejected_reply": "{case_no}の提案を差し戻しました。",
    "nothing_to_approve": "{case_no}には承認待ちの提案がありません。",
    "expert_assigned": "{case_no}の担当をお願いすることになりました。\n相談内容: {desc}",
    # --- scheduling ---------------------------------------------------------------------------
    "schedule_usage": (
        "日程は「/dx schedule 案件番号 日付 開始時刻 時間 方法 [場所] [+共同参加の市町村]」の形で入力してください。"
        "方法は オンライン・訪問・メール・電話・チャット のいずれかです。"
        "例: /dx schedule SAI-2026-0001 2026-12-03 14:00 3 onsite 川口市役所 +蕨市"
        "（メール・電話・チャットで回答済みの相談は、回答した日時で記録できます。"
        "例: /dx schedule SAI-2026-0001 2026-11-10 10:00 0.5 メール）"
    ),
    "hours_invalid": "支援時間は0より大きい数で入力してください。",
    "schedule_bad_date": (
        "「{text}」を日付として読み取れませんでした。2026-12-03 や 12月3日 のように入力してください。"
    ),
    "schedule_bad_time": (
        "「{text}」を開始時刻として読み取れませんでした。14:00 や 14時 のように、0:00〜23:59 の範囲で入力してください。"
    ),
    "schedule_bad_hours": (
        "「{text}」を支援時間として読み取れませんでした。時間数を 1.5 や 2時間 のように、0より大きい数で入力してください。"
    ),
    "schedule_bad_method": (
        "「{text}」は支援の方法として使えません。オンライン・訪問・メール・電話・チャットのいずれかを入力してください。"
    ),
    "hours_over_max": "{track}の1回あたりの支援時間は最大{max}時間です（{hours}時間は登録できません）。",
    "start_past": "{start}は過ぎています。これからの日時を指定してください。",
    "start_closed": "{day}は{reason}のため閉庁日です。開庁日を指定してください。",
    "method_invalid": (
        "方法は online（オンライン）・onsite（訪問）・email（メール）・phone（電話）・"
        "chat（チャット）のいずれかで指定してください。"
    ),
    "method_not_for_track": "{track}は{allowed}で行う支援です（{method}は登録できません）。",
    "no_expert": "{case_no}の担当の専門人材が決まっていません。先に「/dx match {case_no}」で選んでください。",
    "expert_busy": "{names}さんは{start}に別の予定が入っています。別の日時を指定してください。",
    "municipality_cap": "{names}は{track}の上限（{cap}回）に達しているため、これ以上登録できません。",
    "session_details": (
        "支援ID: {session_id}\n"
        "案件: {case_no}\n日時: {start}（{hours}時間）\n方法: {method}\n場所: {place}\n"
        "参加団体: {municipalities}\n報告期限: {due}"
    ),
    "session_scheduled_expert": "支援の日程が決まりました。\n{details}",
    "session_scheduled_officer": "貴団体が参加する支援の日程が決まりました。\n{details}",
    "session_scheduled_staff": "日程を登録しました（状態: {status}）。\n{details}",
    "session_recorded_expert": "回答済みの相談対応を支援の記録として登録しました。\n{details}",
    "session_recorded_officer": "貴団体の相談への回答を支援の記録として登録しました。\n{details}",
    "session_recorded_staff": (
        "回答済みの相談対応を記録しました（状態: {status}）。専門人材に報告を依頼しました。\n{details}"
    ),
    "report_due_passed": "※報告期限（{due}）を過ぎています。",
    # --- cancelling and moving sessions -------------------------------------------------------
    "cancel_usage": "支援の中止は「/dx cancel 支援ID 理由」の形で入力してください。例: /dx cancel 12 先方の都合により中止",
    "move_usage": "支援の日時の変更は「/dx move 支援ID 日付 開始時刻」の形で入力してください。例: /dx move 12 2026-12-10 14:00",
    "session_not_found": "支援ID「{session_id}」の支援は見つかりません。支援IDは「/status 案件番号」で確認できます。",
    "cancel_reason_missing": "中止の理由を添えてください。例: /dx cancel {session_id} 先方の都合により中止",
    "session_already_cancelled": "支援ID {session_id} の支援はすでに中止されています。",
    "session_reported": "支援ID {session_id} の支援は報告が提出済みのため、中止できません。",
    "session_already_held": "支援ID {session_id} の支援はすでに実施済みのため、日時を変更できません。",
    "session_cancelled_notice": (
        "【支援の中止】{case_no}の支援（支援ID {session_id}、{start}）は中止になりました。"
        "理由: {reason}（{actor}）"
    ),
    "session_cancelled_reply": (
        "支援ID {session_id}（{case_no}、{start}）を中止しました。案件の状態: {status}。"
        "専門人材と参加団体の担当者にお知らせしました。"
    ),
    "session_moved_notice": "【支援の日時変更】{before}の支援の日時が変わりました。\n{details}",
    "session_moved_reply": (
        "支援ID {session_id}（{case_no}）の日時を{start}に変更しました。報告期限: {due}。"
        "専門人材と参加団体の担当者にお知らせしました。"
    ),
    "reason_session_cancelled": "支援ID {session_id} の中止",
    "reason_case_ended": "案件の{to}に伴う中止（{reason}）",
    "reason_withdrawn_default": "申請者による取下げ",
    "end_case_confirm": (
        "{case_no}には今後の支援が{n}件あります。「{to}」にすると、次の支援を中止し、"
        "専門人材と参加団体の担当者にお知らせします。よろしいですか？\n{lines}"
    ),
    "end_case_session_line": "・支援ID {session_id}　{start}　担当: {experts}",
    "choice_end_and_cancel": "支援を中止して「{to}」にする",
    "choice_keep_sessions": "やめる（何も変更しない）",
    "end_case_kept": "{case_no}は変更していません。支援の予定もそのままです。",
    "sessions_cancelled_reply": "あわせて支援（支援ID {ids}）を中止しました。",
    # --- LoGo Chat adapter ------------------------------------------------------------------
    "logo_text_truncated": "（文字数の上限を超えたため、ここから先は省略しました）",
}

# English for the few refusals the command line shares with the chat (`dxbot sessions add`).
MESSAGES_EN: dict[str, str] = {
    "hours_invalid": "--hours must be greater than 0.",
    "hours_over_max": "A session of track {track} may last at most {max} hours, not {hours}.",
    "start_past": "The start {start} is in the past; give a future date and time.",
    "start_closed": "{day} is a closed day ({reason}); choose a 開庁日.",
    "method_invalid": "--method must be online, onsite, email, phone or chat.",
    "session_not_found": "Session {session_id} does not exist in this program.",
    "cancel_reason_missing": "Give the reason with --reason.",
    "session_already_cancelled": "Session {session_id} is already cancelled.",
    "session_reported": "Session {session_id} has its report in and cannot be cancelled.",
    "session_already_held": "Session {session_id} has already been held and cannot be moved.",
    "method_not_for_track": "Track {track} is held by {allowed}, not {method}.",
    "no_expert": "Case {case_no} has no expert; give --expert.",
    "expert_busy": "{names} already has a session at {start}; choose another time.",
    "municipality_cap": "{names} reached the cap of {cap} sessions for track {track}.",
    "case_not_found": "Case {case_no} does not exist in this program.",
    "illegal_transition": "Case {case_no} is {frm} and cannot become {to}.",
    "forbidden": "This role ({role}) may not do that.",
}


def _merge_extensions() -> None:
    """Journeys with many messages keep them in their own catalogue module (still Japanese
    text in one place per journey, never in handlers); they are merged here at import."""
    import importlib

    for name in (
        "bot.core.catalog_reports",
        "bot.core.catalog_followup",
        "bot.core.catalog_roster",
        "bot.core.catalog_rules",
        "bot.core.catalog_engagements",
        "bot.core.catalog_deliverables",
        "bot.core.catalog_stages",
        # Each added by its issue's work; a module not yet written is skipped below.
        "bot.core.catalog_deck",  # issue 15: completion and monthly report wording
        "bot.core.catalog_data",  # issue 17: archive README, erasure record, audit
        "bot.core.catalog_web",  # issue 18: the web view
        "bot.core.catalog_conversation",  # issue 19: drafts, pauses, cancel words
        "bot.core.catalog_queue",  # issue 20: the staff queue
    ):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        for key in module.MESSAGES:
            if key in MESSAGES:
                raise RuntimeError(f"catalogue key {key!r} defined twice ({name})")
        MESSAGES.update(module.MESSAGES)
        MESSAGES_EN.update(getattr(module, "MESSAGES_EN", {}))  # the CLI's English, if any


_merge_extensions()


class CatalogError(KeyError):
    pass


def t(key: str, lang: str = "ja", **params: Any) -> str:
    """Render catalogue message ``key`` with ``params`` (English only where the CLI needs it)."""
    try:
        template = MESSAGES_EN[key] if lang == "en" and key in MESSAGES_EN else MESSAGES[key]
    except KeyError as exc:
        raise CatalogError(f"no message {key!r} in the catalogue") from exc
    try:
        return template.format(**params)
    except KeyError as exc:
        raise CatalogError(f"message {key!r} needs parameter {exc.args[0]!r}") from exc
