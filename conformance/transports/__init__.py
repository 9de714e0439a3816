"""Transports: record one HTTP exchange, SSE stream or WebSocket connection into a Transcript.

They record and never judge, and never raise for server behaviour: a refused connection, a
reset or a deadline become records.
"""

from conformance.transports.http import record_http
from conformance.transports.sse import SSERecorder
from conformance.transports.ws import WSRecorder

__all__ = ["SSERecorder", "WSRecorder", "record_http"]
