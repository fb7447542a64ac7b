"""Locust with a grpcio user against a gRPC payload server (seed 000's
grpc_locustfile): requests are timed and reported through Locust's events."""
import os
import sys
import tempfile
import time

import grpc
from grpc_tools import protoc
from locust import User, task

HERE = os.path.dirname(os.path.abspath(__file__))
out = tempfile.mkdtemp(prefix="wirebench-locust-")
assert protoc.main(["protoc", f"-I{os.path.join(HERE, '..', '..', 'proto')}", f"--python_out={out}",
                    f"--grpc_python_out={out}", "payload.proto"]) == 0
sys.path.insert(0, out)
import payload_pb2, payload_pb2_grpc  # noqa: E402,E401

SIZE_KB = 16


class GrpcUser(User):
    def on_start(self):
        self.stub = payload_pb2_grpc.PayloadServiceStub(grpc.insecure_channel(self.host.replace("grpc://", "")))

    @task
    def payload(self):
        start = time.perf_counter()
        error = None
        try:
            r = self.stub.GetLargePayload(payload_pb2.PayloadRequest(size_in_kb=SIZE_KB))
            if len(r.data) != SIZE_KB * 1024:
                error = Exception("wrong size")
        except grpc.RpcError as e:
            error = e
        self.environment.events.request.fire(
            request_type="grpc", name="GetLargePayload", response_time=(time.perf_counter() - start) * 1000,
            response_length=SIZE_KB * 1024, exception=error, context={})
