"""The sales domain: no WeCom, no HTTP. Services take keyword-only arguments and never commit."""
