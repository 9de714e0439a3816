"""Fan-out under load: how many subscribers a streaming server holds, and how quickly each gets
every event (``mastodon-streaming-conformance load``).

Modules: ``command`` (the CLI), ``config`` (options, ramp, target safety), ``streams``,
``marker`` (what each stimulus carries), ``cores`` (sans-I/O lightweight subscribers),
``worker`` (one asyncio process of subscribers), ``sample`` (full recorders, judged),
``stimulus`` (the suite's REST/Redis drivers, paced), ``controller`` (the steps of a run),
``histogram`` + ``stats`` (mergeable figures), ``report`` + ``html`` (``load.json``,
``load-summary.md``, ``load.html``) and ``locustfile`` (the same subscribers on Locust).
"""
