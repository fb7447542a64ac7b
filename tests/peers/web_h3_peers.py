"""Peers for gRPC-Web, HTTP/3 and compression, none of them written by us:

  web_h3_peers.py web-client URL      sonora's gRPC-Web client calls our
                                      grpc-web server (payload, echo, an
                                      error status)
  web_h3_peers.py web-server [as-is]  sonora's gRPC-Web server (ASGI, under
                                      uvicorn) of payload.PayloadService;
                                      prints "listening on ADDR" (as-is:
                                      with sonora's own trailer frames)
  web_h3_peers.py grpc-gzip ADDR      grpcio with gzip compression calls
                                      our grpc+gzip server
  web_h3_peers.py h3 HOST PORT CA     aioquic's HTTP/3 client gets a
                                      payload from our rest-h3 server

Each client prints "ok" and exits 0 when every answer is right."""
import asyncio
import json
import os
import socket
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "proto")


def stubs():
    from grpc_tools import protoc

    out = tempfile.mkdtemp(prefix="wirebench-web-")
    assert protoc.main(["protoc", f"-I{PROTO}", f"--python_out={out}", f"--grpc_python_out={out}", "payload.proto"]) == 0
    sys.path.insert(0, out)
    import payload_pb2
    import payload_pb2_grpc

    return payload_pb2, payload_pb2_grpc


def expect(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")


def web_client(url):
    import grpc
    import sonora.client

    pb, pb_grpc = stubs()
    class Channel:
        """Stubs from today's grpcio-tools pass `_registered_method`,
        which sonora's channel does not take."""

        def __init__(self, inner):
            self.inner = inner

        def unary_unary(self, path, request_serializer=None, response_deserializer=None, **_):
            return self.inner.unary_unary(path, request_serializer, response_deserializer)

    with sonora.client.insecure_web_channel(url) as channel:
        stub = pb_grpc.PayloadServiceStub(Channel(channel))
        r = stub.GetLargePayload(pb.PayloadRequest(size_in_kb=64))
        expect(r.data == b"x" * 64 * 1024, "64 KiB of x")
        expect(stub.Echo(pb.EchoMessage(data=b"hello")).data == b"hello", "echo")
        try:
            stub.GetLargePayload(pb.PayloadRequest(size_in_kb=-1))
            expect(False, "negative size refused")
        except grpc.RpcError as e:
            expect(e.code() == grpc.StatusCode.INVALID_ARGUMENT, f"INVALID_ARGUMENT, got {e.code()}")
    print("ok")


def web_server(as_is="patched"):
    import grpc
    import sonora.asgi
    import sonora.protocol
    import uvicorn

    if as_is != "as-is":
        # sonora (0.2.3) writes its trailer frame's bytes keys with an
        # f-string ("b'grpc-status': b'0'"), which no gRPC-Web client can
        # read; the spec's form, as its client reads it:
        def pack_trailers(trailers):
            text = lambda s: s.decode("ascii") if isinstance(s, bytes) else s
            return "".join(f"{text(k).lower()}: {text(v)}\r\n" for k, v in trailers).encode("ascii")

        sonora.protocol.pack_trailers = pack_trailers

    pb, pb_grpc = stubs()

    class Payload(pb_grpc.PayloadServiceServicer):
        async def GetLargePayload(self, request, context):
            if request.size_in_kb < 0:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "size_in_kb must be >= 0")
            return pb.PayloadResponse(data=b"x" * (request.size_in_kb * 1024))

        async def Echo(self, request, context):
            return pb.EchoMessage(data=request.data)

    app = sonora.asgi.grpcASGI()
    if not hasattr(app, "add_registered_method_handlers"):
        # Servicers from today's grpcio-tools register here too.
        app.add_registered_method_handlers = lambda *args: None
    pb_grpc.add_PayloadServiceServicer_to_server(Payload(), app)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # Listening before the line is printed: a client may connect at once.
    sock.listen(128)
    host, port = sock.getsockname()
    print(f"listening on {host}:{port}", flush=True)
    config = uvicorn.Config(app, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


def grpc_gzip(addr):
    import grpc

    pb, pb_grpc = stubs()
    channel = grpc.insecure_channel(
        addr,
        options=[("grpc.max_receive_message_length", 64 << 20)],
        compression=grpc.Compression.Gzip,
    )
    grpc.channel_ready_future(channel).result(timeout=10)
    stub = pb_grpc.PayloadServiceStub(channel)
    r, call = stub.GetLargePayload.with_call(pb.PayloadRequest(size_in_kb=512))
    expect(r.data == b"x" * 512 * 1024, "512 KiB of x")
    echo = stub.Echo(pb.EchoMessage(data=b"y" * 100_000), compression=grpc.Compression.Gzip)
    expect(echo.data == b"y" * 100_000, "echo, gzip both ways")
    print("ok")


def h3(host, port, cafile):
    from aioquic.asyncio import connect
    from aioquic.asyncio.protocol import QuicConnectionProtocol
    from aioquic.h3.connection import H3_ALPN, H3Connection
    from aioquic.h3.events import DataReceived, HeadersReceived
    from aioquic.quic.configuration import QuicConfiguration

    class Client(QuicConnectionProtocol):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.http = H3Connection(self._quic)
            self.answers = {}

        def quic_event_received(self, event):
            for h3_event in self.http.handle_event(event):
                answer = self.answers.get(h3_event.stream_id)
                if answer is None:
                    continue
                if isinstance(h3_event, HeadersReceived):
                    answer["headers"] = dict(h3_event.headers)
                elif isinstance(h3_event, DataReceived):
                    answer["body"] += h3_event.data
                if getattr(h3_event, "stream_ended", False):
                    answer["done"].set_result(True)

        async def get(self, path):
            stream_id = self._quic.get_next_available_stream_id()
            answer = {"body": b"", "done": asyncio.get_running_loop().create_future()}
            self.answers[stream_id] = answer
            self.http.send_headers(
                stream_id,
                [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", f"{host}:{port}".encode()), (b":path", path.encode())],
                end_stream=True,
            )
            self.transmit()
            await asyncio.wait_for(answer["done"], 10)
            return answer

    async def main():
        config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name="localhost")
        config.load_verify_locations(cafile)
        async with connect(host, int(port), configuration=config, create_protocol=Client) as client:
            answer = await client.get("/payload?size_in_kb=64")
            expect(answer["headers"][b":status"] == b"200", f"status {answer['headers']}")
            expect(json.loads(answer["body"]) == {"data": "x" * 64 * 1024}, "64 KiB of x in JSON")
            bad = await client.get("/payload?size_in_kb=abc")
            expect(bad["headers"][b":status"] == b"400", f"400 for a bad size, got {bad['headers']}")

    asyncio.run(main())
    print("ok")


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"web-client": web_client, "web-server": web_server, "grpc-gzip": grpc_gzip, "h3": h3}[mode](*args)
