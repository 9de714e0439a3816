"""Creating, editing and looking up statuses (PostStatusService / UpdateStatusService in small).

Shared by the Mastodon REST handlers and the reference-only remote-status endpoint, so a remote
status goes through exactly the same parsing and fan-out as a local one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.reference.store import Account, Status, Store, utcnow
from conformance.reference.web.context import ApiError, not_found, unprocessable
from conformance.reference.web.render import Renderer
from conformance.reference.web.textparse import MentionTarget, parse_status_text

VISIBILITIES = ("public", "unlisted", "private", "direct")
MAX_CHARS = 500


def _resolver(store: Store, renderer: Renderer):  # type: ignore[no-untyped-def]
    local_host = (urlsplit(renderer.base_url).hostname or "").lower()

    def resolve(username: str, domain: str | None) -> MentionTarget | None:
        if domain is not None and domain.lower() == local_host:
            domain = None
        account = store.find_account(username, domain)
        if account is None:
            return None
        return MentionTarget(account.id, account.username, renderer.account_url(account))

    return resolve


def apply_text(store: Store, renderer: Renderer, status: Status, text: str) -> None:
    parsed = parse_status_text(text, base_url=renderer.base_url, resolve=_resolver(store, renderer))
    status.text = text
    status.content = parsed.content
    status.tags = parsed.tags
    status.mention_ids = parsed.mention_ids


def can_see(store: Store, status: Status, viewer_id: str | None) -> bool:
    """StatusPolicy#show? for the relations the store models."""
    if status.deleted:
        return False
    if viewer_id == status.account_id:
        return True
    if viewer_id is not None and store.is_blocked_by(status.account_id, viewer_id):
        return False
    if status.visibility in ("public", "unlisted"):
        return True
    if viewer_id is None:
        return False
    if viewer_id in status.mention_ids:
        return True
    return status.visibility == "private" and store.is_following(viewer_id, status.account_id)


def visible_status(store: Store, status_id: str, viewer_id: str | None) -> Status:
    status = store.status(status_id)
    if status is None or not can_see(store, status, viewer_id):
        raise not_found()
    return status


def build_status(
    store: Store,
    renderer: Renderer,
    author: Account,
    *,
    text: str,
    visibility: str | None,
    spoiler_text: str = "",
    sensitive: bool = False,
    language: str | None = None,
    in_reply_to_id: str | None = None,
    media_ids: list[str] | None = None,
    application: tuple[str, str | None] | None = None,
) -> Status:
    """Validate and store a new status (not yet fanned out)."""
    media_ids = [str(m) for m in media_ids or []]
    if not text.strip() and not media_ids:
        raise unprocessable("Text can't be blank")
    if len(text) > MAX_CHARS:
        raise unprocessable(f"Text character limit of {MAX_CHARS} exceeded")
    if visibility is not None and visibility not in VISIBILITIES:
        raise unprocessable("Visibility is not included in the list")
    if len(media_ids) > 4:
        raise unprocessable("Media attachments limit exceeded")
    for media_id in media_ids:
        media = store.media.get(media_id)
        if media is None or media.account_id != author.id or media.status_id is not None:
            raise unprocessable("Media attachments are invalid")
    parent = None
    if in_reply_to_id:
        parent = store.status(in_reply_to_id)
        if parent is None or not can_see(store, parent, author.id):
            raise ApiError(404, "Record not found")
    status = Status(
        id=store.new_id(),
        account_id=author.id,
        visibility=visibility or "public",
        spoiler_text=spoiler_text,
        sensitive=sensitive or bool(spoiler_text),
        language=language,
        in_reply_to_id=parent.id if parent else None,
        in_reply_to_account_id=parent.account_id if parent else None,
        media_ids=media_ids,
        application=application,
    )
    apply_text(store, renderer, status, text)
    if (
        parent is not None
        and parent.account_id not in status.mention_ids
        and parent.account_id != author.id
    ):
        status.mention_ids.insert(0, parent.account_id)
    return store.add_status(status)


def edit_status(
    store: Store,
    renderer: Renderer,
    status: Status,
    *,
    text: str | None,
    spoiler_text: str | None,
    sensitive: bool | None,
    language: str | None,
    media_ids: list[str] | None,
) -> Status:
    if text is not None:
        if len(text) > MAX_CHARS:
            raise unprocessable(f"Text character limit of {MAX_CHARS} exceeded")
        previous_mentions = list(status.mention_ids)
        apply_text(store, renderer, status, text)
        for account_id in previous_mentions:
            if account_id not in status.mention_ids:
                status.mention_ids.append(account_id)
    if spoiler_text is not None:
        status.spoiler_text = spoiler_text
    if sensitive is not None:
        status.sensitive = sensitive
    if language is not None:
        status.language = language
    if media_ids is not None:
        for media_id in media_ids:
            media = store.media.get(str(media_id))
            if media is None or media.account_id != status.account_id:
                raise unprocessable("Media attachments are invalid")
            media.status_id = status.id
        status.media_ids = [str(m) for m in media_ids]
    status.edited_at = utcnow()
    return status
