"""The baseline: the same stack (FastAPI + uvicorn, same crypto and parser) that only reads the body with the
size limit, verifies the signature, decrypts and parses the inner XML, then answers 200 empty.

    python bench/bare_server.py --port 8100
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import PlainTextResponse, Response  # noqa: E402

from bot.callback import BodyTooLarge, read_limited  # noqa: E402
from bot.crypto import CallbackCrypto, CallbackRejected, parse_xml  # noqa: E402
from chat.inbound import from_dict  # noqa: E402
from tests.harness import AES_KEY, CORP_ID, TOKEN  # noqa: E402


def create_bare_app() -> FastAPI:
    crypto = CallbackCrypto(token=TOKEN, aes_key=AES_KEY, corp_id=CORP_ID, window_s=300)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/wecom/callback")
    async def receive(request: Request) -> Response:
        try:
            body = await read_limited(request, 256 * 1024)
            outer = parse_xml(body)
            encrypted = outer.get("Encrypt")
            if not isinstance(encrypted, str):
                raise CallbackRejected(400, "no Encrypt")
            q = request.query_params
            crypto.check(
                msg_signature=q.get("msg_signature", ""),
                timestamp=q.get("timestamp", ""),
                nonce=q.get("nonce", ""),
                encrypted=encrypted,
                now=time.time(),
            )
            msg = from_dict(parse_xml(crypto.decrypt(encrypted), decrypted=True))
            if msg.corp_id != CORP_ID:
                raise CallbackRejected(403, "wrong corp")
        except BodyTooLarge:
            return PlainTextResponse("content too large", status_code=413)
        except CallbackRejected as exc:
            return PlainTextResponse("rejected", status_code=exc.status)
        return Response(status_code=200, content=b"")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> int:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    uvicorn.run(create_bare_app(), host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
