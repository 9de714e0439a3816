"""Transcripts: the recorded evidence of one connection (see ``model``)."""

from conformance.transcript.model import (
    END_KINDS,
    Meta,
    Record,
    Transcript,
    read_transcripts,
    write_transcripts,
)

__all__ = ["END_KINDS", "Meta", "Record", "Transcript", "read_transcripts", "write_transcripts"]
