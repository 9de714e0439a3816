"""Discovery: where a client learns the streaming URL (``/api/v1/instance``, ``/api/v2/instance``).

Clients read the advertised URL and append ``/api/v1/streaming``; an advertised path gets doubled
(megalodon), a missing or disagreeing value sends them elsewhere (Tuba, tootstream). Source:
divergences.md §3.16 and the instance entity docs.
"""

from conformance.requirements import define
from conformance.verdicts import Level

_CLAUSE = (
    "divergences.md §3.16 (GeopJr/Tuba#1507, magicalraccoon/tootstream#191); "
    "mastodon/documentation entities/Instance.md (configuration.urls.streaming), "
    "entities/V1_Instance.md (urls.streaming_api)"
)

define(
    "discovery.streaming-url.form",
    Level.SHOULD,
    source="docs",
    clause=_CLAUSE,
    description="The advertised streaming URL is an absolute ws:// or wss:// URL without a path.",
)
define(
    "discovery.streaming-url.agree",
    Level.SHOULD,
    source="docs",
    clause=_CLAUSE,
    description="v1 urls.streaming_api and v2 configuration.urls.streaming advertise the same URL.",
)
