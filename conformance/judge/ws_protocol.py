"""RFC 6455 itself: the Accept header and every received frame, judged from the recorded bits.

Each rule has a ``*_problems(cx)`` function returning ``(message, evidence)`` pairs; the check of
its requirement reports them, and ``protocol_problems`` collects them all so that checks of the
connection's later behaviour (``ws_common.need_101``, the token-source checks) never pass on a
connection that broke the protocol. None of these may consult ``need_101`` (it consults them).
"""

from __future__ import annotations

from collections.abc import Iterator

from conformance.judge.context import JudgeContext
from conformance.judge.registry import Observation, check, held, never, noted, unexercised, violated
from conformance.judge.ws_common import ws_open
from conformance.judge.ws_rules import RULES, sent_key

HELD = {
    "ws.handshake.accept-valid": "Sec-WebSocket-Accept matches the key",
    "ws.frame.unmasked": "no server frame masked",
    "ws.frame.opcode-known": "every opcode defined",
    "ws.frame.rsv-zero": "no reserved bit set",
    "ws.frame.control": "control frames within 125 bytes, unfragmented",
    "ws.frame.fragmentation": "every message complete and unmixed",
    "ws.frame.within-limits": "within the suite's message, frame and ping limits",
    "ws.close.payload-valid": "close frames well-formed",
    "ws.frame.utf8": "every text message UTF-8",
}


def _register(requirement: str) -> None:
    rule = RULES[requirement]

    def judge(cx: JudgeContext) -> Iterator[Observation]:
        if cx.status != 101:
            yield unexercised(f"upgrade not accepted (status {cx.status})")
            return
        if requirement == "ws.handshake.accept-valid" and not sent_key(cx.meta):
            yield unexercised("the request's Sec-WebSocket-Key was not recorded")
            return
        problems = rule(cx)
        for message, evidence in problems:
            yield violated(message, evidence=evidence)
        if not problems:
            counted = (
                f" ({len(cx.ws_frames)} frames)"
                if requirement != "ws.handshake.accept-valid"
                else ""
            )
            yield held(HELD[requirement] + counted)

    judge.__name__ = "ws_" + requirement.replace(".", "_").replace("-", "_")
    check(requirement, applies=ws_open)(judge)


for _requirement in RULES:
    _register(_requirement)


@check("ws.frame.fragmented", applies=ws_open, plan=never)
def fragmented(cx: JudgeContext) -> Iterator[Observation]:
    assembly = cx.ws_assembly
    if assembly.fragmented:
        messages = sum(1 for r, _ in cx.ws_received if r.fields.get("opcode") in ("text", "binary"))
        yield noted(
            f"the server fragments messages: {assembly.fragmented} of {messages} came in several "
            f"frames (up to {assembly.most_frames}); judged as reassembled messages"
        )
