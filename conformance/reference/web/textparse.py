"""Status text -> (HTML content, hashtags, mentions), a small cousin of Mastodon's TextFormatter.

Kept pure (no store, no I/O): mention resolution is a callback, so the rules can be tested on
their own. Tag names are normalised the way Mastodon's HashtagNormalizer does (NFKC, lower-case,
ASCII folding, only letters/numbers/``_``/U+00B7/U+200C), which is also what the streaming
server does to the ``tag`` parameter, so the Redis channel names agree.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

# Mastodon: Tag::HASHTAG_RE (simplified: a tag needs at least one non-digit word character).
HASHTAG_RE = re.compile(r"(?<![=/)\w])#([\w\u00b7\u200c]*[^\W\d][\w\u00b7\u200c]*)")
# Mastodon: Account::MENTION_RE
MENTION_RE = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@([\w.-]+\w))?", re.IGNORECASE
)
URL_RE = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’]")
_SEPARATORS = "_\u00b7\u200c"


def normalize_tag(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).lower()
    folded = []
    for char in text:
        base = unicodedata.normalize("NFKD", char)
        stripped = "".join(c for c in base if not unicodedata.combining(c))
        folded.append(stripped if stripped.isascii() and stripped else char)
    return "".join(c for c in "".join(folded) if c.isalnum() or c in _SEPARATORS)


@dataclass(frozen=True, slots=True)
class MentionTarget:
    """What the formatter needs to link a resolved mention."""

    account_id: str
    username: str
    url: str


@dataclass(slots=True)
class ParsedText:
    content: str
    tags: list[str] = field(default_factory=list)  # normalised, first-seen order, unique
    mention_ids: list[str] = field(default_factory=list)


Resolver = Callable[[str, str | None], MentionTarget | None]


def parse_status_text(text: str, *, base_url: str, resolve: Resolver) -> ParsedText:
    """Format plain status text as Mastodon does for local statuses.

    ``resolve(username, domain)`` returns the mentioned account, or None to leave the text as is.
    """
    parsed = ParsedText(content="")
    tokens: list[tuple[int, int, str]] = []
    for match in URL_RE.finditer(text):
        tokens.append((match.start(), match.end(), _link(match.group(0))))
    for match in HASHTAG_RE.finditer(text):
        if _overlaps(tokens, match.start()):
            continue
        written = match.group(1).rstrip("\u00b7\u200c")
        name = normalize_tag(written)
        if not name:
            continue
        if name not in parsed.tags:
            parsed.tags.append(name)
        end = match.start() + 1 + len(written)
        anchor = (
            f'<a href="{base_url}/tags/{html.escape(name)}" class="mention hashtag" rel="tag">'
            f"#<span>{html.escape(written)}</span></a>"
        )
        tokens.append((match.start(), end, anchor))
    for match in MENTION_RE.finditer(text):
        if _overlaps(tokens, match.start()):
            continue
        target = resolve(match.group(1), match.group(2))
        if target is None:
            continue
        if target.account_id not in parsed.mention_ids:
            parsed.mention_ids.append(target.account_id)
        anchor = (
            f'<span class="h-card" translate="no"><a href="{html.escape(target.url)}" '
            f'class="u-url mention">@<span>{html.escape(target.username)}</span></a></span>'
        )
        tokens.append((match.start(), match.end(), anchor))
    parsed.content = _paragraphs(text, sorted(tokens))
    return parsed


def _overlaps(tokens: list[tuple[int, int, str]], position: int) -> bool:
    return any(start <= position < end for start, end, _ in tokens)


def _link(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{html.escape(scheme)}://</span>'
        f'<span class="">{html.escape(rest)}</span><span class="invisible"></span></a>'
    )


def _paragraphs(text: str, tokens: list[tuple[int, int, str]]) -> str:
    pieces: list[str] = []
    cursor = 0
    for start, end, markup in tokens:
        if start < cursor:
            continue
        pieces.append(_escape_text(text[cursor:start]))
        pieces.append(markup)
        cursor = end
    pieces.append(_escape_text(text[cursor:]))
    body = "".join(pieces).strip("\n")
    paragraphs = [p for p in re.split(r"\n{2,}", body) if p]
    return "".join(f"<p>{p.replace(chr(10), '<br />')}</p>" for p in paragraphs) or "<p></p>"


def _escape_text(value: str) -> str:
    escaped = html.escape(value.replace("\r\n", "\n"), quote=False)
    return escaped.replace('"', "&quot;").replace("'", "&#39;")


def plain_text(content_html: str) -> str:
    """HTML content back to searchable text (for keyword filters), as Mastodon's searchable_text."""
    without_tags = re.sub(r"<br\s*/?>|</p><p>", "\n", content_html)
    return html.unescape(re.sub(r"<[^>]+>", "", without_tags))
