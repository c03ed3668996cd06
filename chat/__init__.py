"""The chat framework, a leaf package: what a message is, what a handler returns, how a message finds its
handler, dialog state, user-fixable errors and writing replies to the outbox.

It imports only `models`, `cards.keys` and the pure `services.escape`; everything above it (handlers, services,
schedulers, the WeCom edge in `bot/`) may import it. tests/test_layers.py holds it to that.
"""
