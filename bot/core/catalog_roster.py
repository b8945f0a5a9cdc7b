"""Japanese messages of the expert roster (`/dx experts`), the preferred expert named at intake
and consultations opened by the prefecture on a municipality's behalf (merged into
bot.core.catalog)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- the roster -------------------------------------------------------------------------
    "roster_header": "専門人材の一覧（{count}名）{filter}",
    "roster_filter": "— 分野: {domains}",
    "roster_entry": "{n}. {name}\n　分野: {domains}\n　得意領域: {strengths}\n　訪問: {onsite}",
    "roster_contact": "\n　連絡先: {email}",
    "roster_unlisted": "\n　※名簿への掲載に同意していないため、市町村には表示されません",
    "roster_onsite_yes": "対応可",
    "roster_onsite_no": "対応不可（オンラインのみ）",
    "roster_blank": "（未登録）",
    "roster_empty": "一覧に載っている専門人材はまだいません。",
    "roster_none_in_domain": "分野「{domains}」に対応できる専門人材は、一覧にいません。",
    "roster_domain_unknown": (
        "「{word}」に当てはまる分野が見つかりませんでした。分野の名前の一部でお探しください"
        "（例: 「/dx experts セキュリティ」「/dx experts AI」）。"
    ),
    "roster_footer_officer": (
        "ご希望の専門人材がいれば、相談の申し込みの確認画面で「修正する」→"
        "「希望する専門人材」からお名前を指定できます。"
    ),
    "roster_not_for_officers": (
        "この事業では、専門人材の一覧は事務局と県で管理しています。"
        "ご希望があれば、相談の申し込みの際に相談内容へお書きください。"
    ),
    "help_roster": "・専門人材の一覧: 「/dx experts」（分野で絞り込み: 「/dx experts セキュリティ」）",
    # --- the preferred expert at intake -----------------------------------------------------
    "label_preferred_expert": "希望する専門人材",
    "ask_preferred_expert": (
        "ご希望の専門人材を、番号かお名前でお答えください。"
        "指定しない場合は「指定しない」とお答えください。"
    ),
    "preferred_expert_no_choice": "指定しない",
    "preferred_expert_unknown": (
        "「{text}」というお名前の専門人材は一覧にいません。番号か、一覧のお名前でお答えください。"
    ),
    "preferred_expert_ambiguous": (
        "「{text}」に当てはまる方が複数います（{names}）。フルネームか番号でお答えください。"
    ),
    "reason_preferred": "ご希望の専門人材",
    "preferred_not_first": "ご希望の{name}さんは{why}ため、候補の先頭にしていません。",
    "preferred_why_not_onsite": "訪問に対応していない",
    "preferred_why_not_listed": "名簿への掲載に同意していない",
    "preferred_why_inactive": "現在は専門人材として登録されていない",
    "preferred_why_rule": "{reason}",
    # --- the prefecture opens a consultation on a municipality's behalf ---------------------
    "behalf_ask_municipality": (
        "どの市町村からのご相談ですか？番号か団体名でお答えください。"
        "（一覧は担当者が登録済みの市町村です）"
    ),
    "behalf_municipality_unknown": (
        "「{text}」は{prefecture}の市町村として見つかりませんでした。番号か団体名（例: {example}）"
        "でお答えください。"
    ),
    "behalf_no_officer": (
        "{municipality}には、ボットに登録済みの担当者がいません。お手数ですが、事務局に担当者の"
        "登録（dxbot users add ユーザーID --role officer --municipality {municipality} "
        "--name 氏名）を依頼してから、もう一度お申し込みください。別の市町村のご相談であれば、"
        "団体名をお答えください。"
    ),
    "behalf_no_officers_at_all": (
        "まだどの市町村の担当者もボットに登録されていないため、代理での受付ができません。"
        "お手数ですが、事務局に担当者の登録（dxbot users add ユーザーID --role officer "
        "--municipality 団体名 --name 氏名）を依頼してから、もう一度お申し込みください。"
    ),
    "behalf_ask_officer": (
        "{municipality}のどなたからのご相談ですか？番号かお名前でお答えください。"
        "受付や日程のお知らせ、支援後のアンケートはこの方に届きます。"
    ),
    "behalf_officer_entry": "{name}（{where}）",
    "behalf_history_reason": "{actor}（県職員）が{municipality}の{officer}さんの代理で受付",
    "behalf_case_opened": (
        "{municipality}の{officer}さんからの相談として、{case_no}で受け付けました。"
        "以後のお知らせとアンケートは{officer}さんに届きます。"
    ),
    "help_behalf": (
        "・市町村からの相談の受付（県経由）: 「/consult」または「相談したい」"
        "（市町村と担当者を選んでから内容を伺います）"
    ),
}
