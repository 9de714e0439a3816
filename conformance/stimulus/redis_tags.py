"""Hashtag channel names as the streaming server computes them.

Rails publishes a tagged status on ``timeline:hashtag:<name>`` and the streaming server subscribes
a ``?tag=`` client to the channel named by *its* normalisation of the tag (notes §2: NFKC,
lower-case, Latin diacritics folded to ASCII, everything but letters, numbers, ``_``, U+00B7 and
U+200C dropped). The two must agree or a hashtag stream never hears anything, so the driver
publishes on the normalised name. Own implementation (Unicode decomposition plus the few Latin
letters that do not decompose), not the reference server's table.
"""

from __future__ import annotations

import unicodedata

#: Latin letters whose diacritic is not a combining mark, so NFD leaves them alone.
_UNDECOMPOSABLE = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "ħ": "h",
        "Ħ": "H",
        "ı": "i",
        "ŀ": "l",
        "Ŀ": "L",
        "ſ": "s",
        "ĸ": "k",
        "ŉ": "n",
        "ŋ": "n",
        "Ŋ": "N",
        "ŧ": "t",
        "Ŧ": "T",
    }
)
_KEEP = frozenset({"_", "\u00b7", "\u200c"})


def _fold_latin(ch: str) -> str:
    decomposed = unicodedata.normalize("NFD", ch)
    base = decomposed[0]
    folds = base.isascii() and base.isalpha() and len(decomposed) > 1
    if folds and all(unicodedata.combining(mark) for mark in decomposed[1:]):
        return base
    return ch


def normalise_tag(tag: str) -> str:
    """The channel suffix for ``tag``: ``#Café`` -> ``cafe``."""
    text = unicodedata.normalize("NFKC", tag).lower().translate(_UNDECOMPOSABLE)
    folded = "".join(_fold_latin(ch) for ch in text)
    return "".join(ch for ch in folded if ch in _KEEP or unicodedata.category(ch)[0] in ("L", "N"))


def hashtag_channels(tag: str, *, local: bool) -> list[str]:
    """Channels FanOutOnWriteService broadcasts a public status with ``tag`` on."""
    name = normalise_tag(tag)
    if not name:
        return []
    channels = [f"timeline:hashtag:{name}"]
    if local:
        channels.append(f"timeline:hashtag:{name}:local")
    return channels
