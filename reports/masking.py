"""Masking of personal details in free text, for material shared beyond the desk: the case
collection (reports.casebook) and the deck's quoted comments and highlights (reports.deck).

Its own module so that a deck, which needs only this, does not import openpyxl with the
casebook (about 0.1 s of `dxbot deck`'s start-up).
"""

from __future__ import annotations

import re
import string

from bot.core.catalog import t

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\d)(?:\+81[-\s]?|0)\d{1,4}[-\s(（]?\d{1,4}[-\s)）]?\d{3,4}(?!\d)")
SUFFIXES = ("市", "町", "村", "区")


class Masker:
    """Replaces names, e-mail addresses, phone numbers and (optionally) municipality names."""

    def __init__(self, people: list[str], municipalities: dict[str, str], mask_places: bool):
        self.labels = municipality_labels(municipalities) if mask_places else {}
        self.names = {code: name for code, name in municipalities.items()}
        variants = set()
        for name in people:
            name = name.strip()
            if len(name) >= 2:
                variants.add(name)
                compact = name.replace(" ", "").replace("\u3000", "")
                if len(compact) >= 2:
                    variants.add(compact)
                family = re.split(r"[ \u3000]", name)[0]
                if len(family) >= 2 and family != name:
                    variants.add(family + "さん")
                    variants.add(family + "様")
        self.people = sorted(variants, key=len, reverse=True)
        places = [(self.names[c], self.labels[c]) for c in self.labels]
        self.places = sorted(places, key=lambda p: len(p[0]), reverse=True)

    def municipality(self, code: str, name: str) -> str:
        return self.labels.get(code, name)

    def text(self, value: str) -> str:
        value = EMAIL.sub(t("cb_mask_email"), value)
        value = PHONE.sub(t("cb_mask_phone"), value)
        for name in self.people:
            value = value.replace(name, t("cb_mask_name"))
        for name, label in self.places:
            value = value.replace(name, label)
        return value


def municipality_labels(municipalities: dict[str, str]) -> dict[str, str]:
    """A市, B町, … in code order; after Z: AA, AB, … (the kind 市/町/村 is kept)."""
    letters = string.ascii_uppercase
    out = {}
    for i, (code, name) in enumerate(sorted(municipalities.items())):
        tag = letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26]
        suffix = name[-1] if name.endswith(SUFFIXES) else ""
        out[code] = tag + suffix
    return out
