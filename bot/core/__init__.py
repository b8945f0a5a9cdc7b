"""The bot core (layer 4 of ARCHITECTURE.md): message types, router, conversation engine,
notifier, permissions, the message catalogue, settings and the LLM port.

It sits below the journeys (handlers) and the report/reminder layer, and above the store: it
imports nothing from ``bot``'s wiring (CLI, server, adapters, composition root).
"""
