"""A Python grpcio client for every gRPC service wirebench serves,
streaming rpcs included. Usage: grpc_client.py KIND ADDR where KIND is
payload, producer, processor or aggregator. Prints "ok" and exits 0 when
every answer is right."""
import os
import sys
import tempfile

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "proto")
sys.path.insert(0, HERE)
import pipeline_work  # noqa: E402

out = tempfile.mkdtemp(prefix="wirebench-client-")
for name in ("payload.proto", "services.proto"):
    assert protoc.main(["protoc", f"-I{PROTO}", f"--python_out={out}", f"--grpc_python_out={out}", name]) == 0
sys.path.insert(0, out)
import payload_pb2, payload_pb2_grpc, services_pb2, services_pb2_grpc  # noqa: E402,E401

kind, addr = sys.argv[1], sys.argv[2]
channel = grpc.insecure_channel(addr, options=[("grpc.max_receive_message_length", 64 << 20)])
grpc.channel_ready_future(channel).result(timeout=10)


def expect(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")


if kind == "payload":
    stub = payload_pb2_grpc.PayloadServiceStub(channel)
    r = stub.GetLargePayload(payload_pb2.PayloadRequest(size_in_kb=512))
    expect(r.data == b"x" * 512 * 1024, "512 KiB of x")
    expect(stub.Echo(payload_pb2.EchoMessage(data=b"hello")).data == b"hello", "echo")
    try:
        stub.GetLargePayload(payload_pb2.PayloadRequest(size_in_kb=-1))
        expect(False, "negative size refused")
    except grpc.RpcError as e:
        expect(e.code() == grpc.StatusCode.INVALID_ARGUMENT, f"INVALID_ARGUMENT, got {e.code()}")
elif kind == "producer":
    stub = services_pb2_grpc.ProducerServiceStub(channel)
    expect(len(stub.Generate(services_pb2.GenerateRequest(records=7)).records) == 7, "Generate")
    requests = [services_pb2.GenerateRequest(request_id=i, records=i) for i in range(1, 21)]
    answers = list(stub.GenerateStream(iter(requests)))
    expect(sorted(a.request_id for a in answers) == list(range(1, 21)), "every stream answer")
    expect(all(len(a.records) == a.request_id for a in answers), "each answer its own")
elif kind == "processor":
    stub = services_pb2_grpc.ProcessorServiceStub(channel)
    expect(len(stub.Process(services_pb2.ProcessRequest(records=5)).records) == 5, "Process")
    requests = [services_pb2.ProcessRequest(request_id=i, records=i) for i in range(1, 11)]
    answers = list(stub.ProcessStream(iter(requests)))
    expect(sorted(a.request_id for a in answers) == list(range(1, 11)), "every stream answer")
elif kind == "aggregator":
    stub = services_pb2_grpc.AggregatorServiceStub(channel)
    got = stub.Aggregate(services_pb2.AggregateRequest(records=100))
    want = pipeline_work.aggregate(pipeline_work.process(pipeline_work.generate(100)))
    expect(got.checksum == want["checksum"] and got.count == 100, f"checksum {got.checksum} vs {want['checksum']}")
else:
    sys.exit(f"unknown kind {kind}")
print("ok")
