"""Reads the pipeline over rest-proto with Python's own HTTP client and
protoc-generated classes: proves the protobuf bodies are the contract's
messages, not something only wirebench can read. Usage:
rest_proto_client.py PRODUCER_ADDR AGGREGATOR_ADDR. Prints "ok" and exits 0
when every answer is right."""
import os
import sys
import tempfile
import urllib.request

from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "proto")
sys.path.insert(0, HERE)
import pipeline_work  # noqa: E402

out = tempfile.mkdtemp(prefix="wirebench-rest-proto-")
assert protoc.main(["protoc", f"-I{PROTO}", f"--python_out={out}", "services.proto"]) == 0
sys.path.insert(0, out)
import services_pb2  # noqa: E402

producer, aggregator = sys.argv[1], sys.argv[2]


def get(addr, path):
    request = urllib.request.Request(f"http://{addr}{path}", headers={"Accept": "application/x-protobuf"})
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.headers["Content-Type"] != "application/x-protobuf":
            sys.exit(f"FAILED: {path} answered {response.headers['Content-Type']}")
        return response.read()


batch = services_pb2.RecordBatch.FromString(get(producer, "/generate?records=7"))
if [r.id for r in batch.records] != list(range(1, 8)):
    sys.exit(f"FAILED: producer batch ids {[r.id for r in batch.records]}")
summary = services_pb2.Summary.FromString(get(aggregator, "/aggregate?records=100"))
expected = pipeline_work.aggregate(pipeline_work.process(pipeline_work.generate(100)))
if summary.count != 100 or summary.checksum != expected["checksum"]:
    sys.exit(f"FAILED: summary {summary.count} {summary.checksum}, expected {expected}")
print("ok")
