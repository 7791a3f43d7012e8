"""Validators shared by model fields, so forms, the API and inventory sync refuse the same input.

Names are shown in pages, diagrams, reports, email subjects and audit records. A control
character there breaks layouts and header lines; a bidirectional override (U+202E and friends)
makes a name read differently from what it is ("Trojan Source"), so a reviewer approving
"exfil.gpj" is really looking at "exfil.jpg". Ordinary letters of every script stay allowed.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# Categories refused: Cc control (U+0000-001F, U+007F-009F), Cf format (bidi marks, embeddings,
# overrides and isolates, zero-width space, BOM, soft hyphen, ...), Cs lone surrogates, Co private
# use, Zl / Zp line and paragraph separators (U+2028 / U+2029).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
# Zero-width non-joiner and joiner are format characters that Persian, Indic scripts and emoji
# sequences need to spell ordinary words; they cannot reorder text, so they stay allowed.
ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})


def refused_character(value: str) -> str | None:
    """The first character of ``value`` a name may not contain, or None when it is clean."""
    # Every refused category is "Other" or "Separator", which isprintable() already rejects:
    # the common all-printable name costs one C-level scan (inventory sync checks 50,000).
    if value.isprintable():
        return None
    for char in value:
        if char in ALLOWED_FORMAT:
            continue
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            return char
    return None


def describe(char: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``: how an error names a character it cannot show."""
    label = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({label})" if label else "")


@deconstructible
class PlainTextValidator:
    """Refuse control, format (bidirectional override) and separator characters in a name."""

    message = "Names may not contain control or text-direction characters; found {char}."
    code = "control_character"

    def __call__(self, value: object) -> None:
        if not isinstance(value, str):
            return
        char = refused_character(value)
        if char is not None:
            raise ValidationError(self.message.format(char=describe(char)), code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainTextValidator)

    def __hash__(self) -> int:
        return hash(PlainTextValidator)


validate_plain_name = PlainTextValidator()
