"""The WeCom edge: app factory, callback, routing, WeCom client, outbox delivery, settings, CLI."""
