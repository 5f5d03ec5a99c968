"""What every e-mail Rapport sends has in common: a subject on one line.

Subjects quote what users typed (a milestone title, a client name, an engagement title). Django
refuses to send a message whose subject holds a line break (a header-injection guard): with a
``\\r`` in a milestone title the notification was silently dropped. Every sender builds its
subject with ``subject_line``, which folds line breaks and other control characters into spaces.
"""

from __future__ import annotations

import re
import unicodedata

MAX_SUBJECT_CHARS = 200
_BREAKS = re.compile(r"\s+")


def subject_line(text) -> str:
    """The subject on one line: control characters and line breaks become spaces, runs of spaces one,
    and a subject longer than ``MAX_SUBJECT_CHARS`` ends with an ellipsis."""
    text = "".join(" " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in str(text))
    text = _BREAKS.sub(" ", text).strip()
    if len(text) > MAX_SUBJECT_CHARS:
        text = text[:MAX_SUBJECT_CHARS - 1].rstrip() + "…"
    return text
