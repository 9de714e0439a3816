"""The embedded reference server: a miniature Mastodon (web side + streaming side) in one process.

It is an independent implementation of the behaviour the suite checks, so a suite bug and a server
bug cannot cancel out. Nothing here imports from the rest of ``conformance`` and nothing outside
this package imports it: the suite talks to it over the network only
(``python -m conformance.reference serve``).
"""
