"""Messages of meetings and events (`/dx event`, `/dx events`) and of deliverables (`/dx
deliverables`, `/dx done`, their reminders to the staff, their lines in /status). Japanese for
the chat; English where `dxbot events add` / `dxbot deliverables done` share a refusal.
Merged into bot.core.catalog at import.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- /dx event KIND 日付 [場所=…] [参加=…,…] [メモ=…] ------------------------------------
    "event_usage": (
        "会議・行事の記録は「/dx event 種類 日付 場所=… 参加=氏名,氏名 メモ=…」の形でお送りください"
        "（場所・参加・メモは省略できます）。種類: {kinds}"
    ),
    "event_no_kinds": "この事業には記録する会議・行事が定められていません。",
    "event_kind_unknown": (
        "「{kind}」という会議・行事の種類はこの事業にはありません。次のいずれかでご指定ください: {kinds}"
    ),
    "event_date_invalid": (
        "「{text}」から日付を読み取れませんでした。「5月12日」や「2026-05-12」の形でご指定ください。"
    ),
    "event_outside_term": ("{day}は事業の実施期間（{first}〜{last}）の外のため記録できません。"),
    "event_recorded": "{name}（E{event_id}、{day}{place}）を記録しました。",
    "event_recorded_place": "、{place}",
    "event_item_made": "・{title}（D{item_id}）の提出期限は{due}です。",
    "events_header": "記録済みの会議・行事（{count}件）:",
    "events_line": "・E{event_id} {day} {name}{place}{attendees}",
    "events_attendees": "（参加: {names}）",
    "events_none": "記録済みの会議・行事はまだありません。「/dx event 種類 日付」で記録できます。",
    "events_counts": "回数: {counts}",
    "events_count_item": "{name} {held}回",
    "events_count_item_expected": "{name} {held}/{expected}回",
    "help_events": (
        "・会議・行事の記録: 「/dx event 種類 日付 場所=… 参加=氏名,氏名 メモ=…」"
        "（種類: {kinds}）、一覧: 「/dx events」"
    ),
    "help_deliverables": "・成果物の提出期限の一覧: 「/dx deliverables」、提出済みの記録: 「/dx done D番号」",
    # --- /dx deliverables, /dx done D12 -------------------------------------------------------
    "deliv_usage": "提出済みの記録は「/dx done D番号」の形でお送りください（例: /dx done D12）。",
    "deliv_not_found": (
        "成果物「{ref}」は見つかりませんでした。「/dx deliverables」で番号をご確認ください。"
    ),
    "deliv_already_done": ("D{item_id}「{title}」は{when}に{by}さんが提出済みとして記録済みです。"),
    "deliv_done_reply": "D{item_id}「{title}」を提出済みとして記録しました（{by}さん、{when}）。",
    "deliv_header": "提出待ちの成果物（{count}件）:",
    "deliv_line": "・D{item_id} {title} — 期限 {due}（{to}）{state}",
    "deliv_none": "提出待ちの成果物はありません。",
    "deliv_to_prefecture": "県へ提出",
    "deliv_to_staff": "事務局へ提出",
    "deliv_state_overdue": "【{days}開庁日超過】",
    "deliv_state_today": "【本日期限】",
    "deliv_state_left": "",
    # --- reminders to the staff ---------------------------------------------------------------
    "ping_deliverables": (
        "成果物の提出期限のお知らせです。\n{lines}\n"
        "提出が済みましたら「/dx done D番号」で記録してください。"
    ),
    "ping_deliv_before": "・D{item_id} {title}（{to}）: 期限は{due}です（あと{days}開庁日）。",
    "ping_deliv_due": "・D{item_id} {title}（{to}）: 本日{due}が期限です。",
    "ping_deliv_due_closed": "・D{item_id} {title}（{to}）: 期限の{due}は閉庁日のため、本日が最終開庁日です。",
    "ping_deliv_overdue": "・D{item_id} {title}（{to}）: 期限の{due}を過ぎています。",
    # --- /status ------------------------------------------------------------------------------
    "status_deliv_header": "■ 成果物 期限超過 {overdue}件・{days}開庁日以内に期限 {soon}件",
    "status_deliv_line": "　D{item_id} {title} 期限{due}{state}",
    "status_deliv_more": "　…ほか{n}件（「/dx deliverables」で一覧）",
    "status_events_line": "■ 会議・行事（開催／想定） {counts}",
    # --- decks (reports/deck/events.py) -------------------------------------------------------
    "deck_events_title": "会議・行事と成果物",
    "deck_events_summary": "成果物 {total}件のうち提出済み {done}件（期限超過 {late}件）",
    "deck_events_none": "この事業には会議・行事・成果物の定めがありません。",
    "deck_events_kind": "会議・行事",
    "deck_events_held": "開催／予定",
    "deck_events_item": "成果物",
    "deck_events_due": "期限",
    "deck_events_state": "状況",
    "deck_events_done": "提出済（{day}）",
    "deck_events_late": "{days}開庁日超過",
    "deck_events_open": "未提出",
}

MESSAGES_EN: dict[str, str] = {
    "event_no_kinds": "This program's profile declares no meetings or events to record.",
    "event_kind_unknown": "Unknown event kind {kind!r}; the program's kinds are: {kinds}.",
    "event_outside_term": "{day} is outside the program's term ({first} to {last}).",
    "deliv_not_found": "No deliverable {ref} in this program; see `dxbot deliverables list`.",
    "deliv_already_done": "D{item_id} {title!r} was already marked done by {by} at {when}.",
}
