"""Seed 000's gRPC payload service and the pipeline's AggregatorService,
with Python grpcio: the seed's grpc.server(ThreadPoolExecutor(max_workers=10)),
or grpc.aio with --aio. Stubs are generated from proto/ at start.
With --require-metadata NAME=VALUE (threaded server), every call without
that metadata is refused with UNAUTHENTICATED: proves ghz-style metadata
reaches the server. Prints "listening on 127.0.0.1:PORT" once it accepts."""
import asyncio
import concurrent.futures
import os
import sys
import tempfile

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "proto")
sys.path.insert(0, HERE)
import pipeline_work  # noqa: E402

out = tempfile.mkdtemp(prefix="wirebench-peer-")
for name in ("payload.proto", "services.proto"):
    if protoc.main(["protoc", f"-I{PROTO}", f"--python_out={out}", f"--grpc_python_out={out}", name]) != 0:
        sys.exit(f"cannot compile {name}")
sys.path.insert(0, out)
import payload_pb2  # noqa: E402
import payload_pb2_grpc  # noqa: E402
import services_pb2  # noqa: E402
import services_pb2_grpc  # noqa: E402

LIMIT = 64 * 1024 * 1024


class Payload(payload_pb2_grpc.PayloadServiceServicer):
    def GetLargePayload(self, request, context):
        return payload_pb2.PayloadResponse(data=b"x" * request.size_in_kb * 1024)

    def Echo(self, request, context):
        return payload_pb2.EchoMessage(data=request.data)


class Aggregator(services_pb2_grpc.AggregatorServiceServicer):
    def Aggregate(self, request, context):
        s = pipeline_work.aggregate(pipeline_work.process(pipeline_work.generate(request.records or 100)))
        return services_pb2.Summary(**s)


OPTIONS = [("grpc.max_send_message_length", LIMIT), ("grpc.max_receive_message_length", LIMIT)]


def add(server):
    payload_pb2_grpc.add_PayloadServiceServicer_to_server(Payload(), server)
    services_pb2_grpc.add_AggregatorServiceServicer_to_server(Aggregator(), server)
    return server.add_insecure_port("127.0.0.1:0")


async def serve_aio():
    server = grpc.aio.server(options=OPTIONS)
    port = add(server)
    await server.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    await server.wait_for_termination()


class RequireMetadata(grpc.ServerInterceptor):
    def __init__(self, name, value):
        self.pair = (name, value)

        def refuse(_request, context):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, f"metadata {name}={value} is required")

        self.refusal = grpc.unary_unary_rpc_method_handler(refuse)

    def intercept_service(self, continuation, details):
        if self.pair in tuple(details.invocation_metadata or ()):
            return continuation(details)
        return self.refusal


if __name__ == "__main__":
    if "--aio" in sys.argv:
        asyncio.run(serve_aio())
    else:
        interceptors = []
        if "--require-metadata" in sys.argv:
            name, value = sys.argv[sys.argv.index("--require-metadata") + 1].split("=", 1)
            interceptors.append(RequireMetadata(name, value))
        server = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=10),
            options=OPTIONS,
            interceptors=interceptors,
        )
        port = add(server)
        server.start()
        print(f"listening on 127.0.0.1:{port}", flush=True)
        server.wait_for_termination()
