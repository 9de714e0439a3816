"""The suite's own exceptions: one base, so a caller can catch "the suite said no" at once.

Server behaviour is never an exception (transports record it, judges give verdicts); these are
for the suite, its configuration and its environment. Each front end maps them to an exit
status: configuration and setup problems are exit 2 with one line naming the fix.

Exception tree (classes defined elsewhere are named with their module)::

    ConformanceError
    ├── ConfigError (ValueError)           a setting or input file cannot be used (usage, exit 2)
    │   ├── config.SettingsError           a bad option value
    │   └── baseline.BaselineError         an unreadable or invalid --baseline file
    ├── SetupError (RuntimeError)          nothing could be tested (exit 2)
    │   ├── discovery.DiscoveryError       target unreachable / no instance document
    │   ├── embedded.EmbeddedError         the embedded reference server did not start
    │   └── RunAborted                     the run stopped before its session (either above)
    ├── StimulusError                      stimulus.base: a driver could not cause an event
    │   └── stimulus.base.ScenarioUnsupported
    ├── TranscriptError (ValueError)       saved transcripts that cannot be read
    │   └── StimulusLogError               a run's _stimuli.jsonl that cannot be read
    └── SuiteError                         plugin: a case's Result is an error (pytest error)

The stdlib mixins (``ValueError``, ``RuntimeError``) keep older ``except`` clauses working.
``StimulusError`` and ``SuiteError`` are defined here and re-exported where they were.
"""

from __future__ import annotations


class ConformanceError(Exception):
    """Base of every exception the suite raises on purpose."""


class ConfigError(ConformanceError, ValueError):
    """A setting or an input file cannot be used: a usage error (exit 2)."""


class SetupError(ConformanceError, RuntimeError):
    """Nothing could be tested: the target or the embedded server is not there (exit 2)."""


class RunAborted(SetupError):
    """The run stopped before its session (target unreachable, embedded server failed)."""


class StimulusError(ConformanceError):
    """A stimulus driver could not cause an event (the step is then not run, or ``error``)."""


class TranscriptError(ConformanceError, ValueError):
    """Saved transcripts that cannot be read."""


class StimulusLogError(TranscriptError):
    """A saved run's stimulus log (``transcripts/_stimuli.jsonl``) that cannot be read."""


class SuiteError(ConformanceError):
    """The suite or the environment failed for one case (reported as a pytest error)."""


__all__ = [
    "ConfigError",
    "ConformanceError",
    "RunAborted",
    "SetupError",
    "StimulusError",
    "StimulusLogError",
    "SuiteError",
    "TranscriptError",
]
