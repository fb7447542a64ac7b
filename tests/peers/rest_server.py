"""Seed 000's REST payload service (and the pipeline's /aggregate in one
process), with Starlette on uvicorn, as the seed ran it. Prints
"listening on 127.0.0.1:PORT" once it accepts."""
import json
import socket
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import pipeline_work  # noqa: E402


async def payload(request):
    size = int(request.query_params.get("size_in_kb", "1"))
    return JSONResponse({"data": "x" * size * 1024})


async def echo(request):
    return JSONResponse(json.loads(await request.body()))


async def aggregate(request):
    n = int(request.query_params.get("records", "100")) or 100
    return JSONResponse(pipeline_work.aggregate(pipeline_work.process(pipeline_work.generate(n))))


app = Starlette(routes=[
    Route("/payload", payload),
    Route("/echo", echo, methods=["POST"]),
    Route("/aggregate", aggregate),
])

if __name__ == "__main__":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    print(f"listening on 127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.run(app, fd=sock.fileno(), log_level="warning")
