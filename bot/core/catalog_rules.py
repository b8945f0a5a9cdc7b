"""Messages of the program rules (store/rules.py): the term, the session window, who may be
booked, which municipalities a track serves, on-site minimums. Japanese for the chat; English
for the refusals `dxbot sessions add` shares with it. Merged into bot.core.catalog at import.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "outside_term": (
        "{day}は事業の実施期間外のため登録できません。"
        "支援は{first}から{last}までの日付で指定してください。"
    ),
    "after_last_service_day": (
        "{day}は履行期限（{last}）より後のため登録できません。"
        "支援は{first}から{last}までの日付で指定してください。"
    ),
    "start_outside_window": (
        "支援は{open}から{close}までの時間帯に行います（{start}開始・{hours}時間は時間帯の外です）。"
        "{open}以降に始まり{close}までに終わる日時を指定してください。"
    ),
    "expert_not_consented": (
        "{name}さんは人材データベースへの掲載に同意していないため、支援をお願いできません。"
    ),
    "expert_cannot_visit": (
        "{name}さんは訪問対応ができないため、訪問の支援はお願いできません。"
        "オンラインで行うか、訪問できる専門人材を選んでください。"
    ),
    "municipality_not_in_track": "{names}は{track}の対象外のため、この区分では登録できません。",
    "report_due_after_service": (
        "※報告期限（{due}）が履行期限（{last}）より後になります。"
        "履行期限までに報告を受け取れるよう、専門人材と調整してください。"
    ),
    "program_ended_case": (
        "{fiscal}の事業（{program}）は{last}で終了しているため、新しい相談は受け付けていません。"
        "実施済みの支援の報告やアンケート、状況の確認は引き続きご利用いただけます。"
    ),
    "program_ended_session": (
        "{fiscal}の事業（{program}）は{last}で終了しているため、新しい支援の登録はできません。"
        "実施済みの支援の報告やアンケート、状況の確認は引き続きご利用いただけます。"
    ),
    "shortfall_onsite": (
        "{tracks}の現地での支援が{held}回です（{minimum}回以上が必要、あと{remaining}回）。"
    ),
}

MESSAGES_EN: dict[str, str] = {
    "outside_term": (
        "{day_iso} is outside the program's term; give a date from {first_iso} to {last_iso}."
    ),
    "after_last_service_day": (
        "{day_iso} is after the last day of service ({last_iso}); give a date from "
        "{first_iso} to {last_iso}."
    ),
    "start_outside_window": (
        "Sessions run between {open} and {close}; a {hours}-hour session starting {start} "
        "is outside that window."
    ),
    "expert_not_consented": "{name} has not consented to be listed, so cannot be booked.",
    "expert_cannot_visit": (
        "{name} does not do on-site sessions; use --method online or another expert."
    ),
    "municipality_not_in_track": "{names} is not served by track {track}.",
    "report_due_after_service": (
        "Warning: the report is due {due_iso}, after the last day of service ({last_iso})."
    ),
    "program_ended_case": (
        "Program {program_id} ended on {last_iso} (its last day of service); it takes no new "
        "cases. Late reports, surveys, status, exports and decks still work."
    ),
    "program_ended_session": (
        "Program {program_id} ended on {last_iso} (its last day of service); it takes no new "
        "sessions. Late reports, surveys, status, exports and decks still work."
    ),
    "shortfall_onsite": "{tracks}: {held} on-site sessions held of at least {minimum}.",
}
