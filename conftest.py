"""Checkout-level pytest wiring: the suite's plugin is loaded for every pytest run in the repo.

``conformance.plugin`` adds the ``--target``/``--token``... options and the report writer; the
installed command loads the same plugin with ``-p``, and pytest skips a plugin already loaded.
"""

pytest_plugins = ["conformance.plugin"]
