"""The demo: the browser simulator (`/sim`), the stand-in WeCom API it talks to and the seeded company.

Nothing in production imports it; `salesbot demo` (bot/cli.py) runs `demo.run.run_demo`.
"""
