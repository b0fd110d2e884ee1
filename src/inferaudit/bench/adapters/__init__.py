"""Harness adapters that drive a real agent CLI through the gateway: ``claude-code`` and ``codex``.

Each runs its CLI headless in the attempt's work tree with a throwaway home
(:mod:`.process`), points it at the gateway with the attribution headers,
and reads its JSON event stream for turns, usage and why it stopped.
"""
