"""Reads the message workload with Python's own protobuf library, which
knows nothing of wirebench: proves the REST JSON is the canonical proto3
mapping and the gRPC answer the same message. Usage:
message_check.py REST_ADDR GRPC_ADDR. Both servers serve the same shape
(`order`, same --seed and --items).

- GET /message: google.protobuf.json_format.Parse reads it as an Order;
- gRPC MessageService/Down: the same Order, byte for byte;
- POST /message with json_format's own JSON of it: the server's Ack digest
  is FNV-1a 64 of the message's deterministic protobuf encoding, so the
  server decoded every field Python wrote.
Prints "ok" and exits 0 when all hold."""
import json
import os
import sys
import tempfile
import urllib.request

import grpc
import grpc_tools
from google.protobuf import json_format
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "proto")
WELL_KNOWN = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")

out = tempfile.mkdtemp(prefix="wirebench-message-")
args = ["protoc", f"-I{PROTO}", f"-I{WELL_KNOWN}", f"--python_out={out}", "shapes.proto", "message.proto"]
assert protoc.main(args) == 0, "protoc failed"
sys.path.insert(0, out)
import message_pb2  # noqa: E402
import shapes_pb2  # noqa: E402

rest, grpc_addr = sys.argv[1], sys.argv[2]


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


with urllib.request.urlopen(f"http://{rest}/message", timeout=10) as response:
    assert response.headers["Content-Type"] == "application/json", response.headers
    text = response.read().decode("utf-8")
order = json_format.Parse(text, shapes_pb2.Order())
assert len(order.line_items) > 0 and order.order_id != 0, order
# The canonical mapping: int64 as strings, enum names, lowerCamelCase.
raw = json.loads(text)
assert raw["orderId"] == str(order.order_id), raw["orderId"]
assert raw["status"].startswith("ORDER_STATUS_"), raw["status"]

with grpc.insecure_channel(grpc_addr) as channel:
    down = channel.unary_unary(
        "/wirebench.message.MessageService/Down",
        request_serializer=message_pb2.DownRequest.SerializeToString,
        response_deserializer=shapes_pb2.Order.FromString,
    )
    over_grpc = down(message_pb2.DownRequest(), timeout=10)
assert over_grpc == order, "the gRPC answer and the REST JSON differ"

body = json_format.MessageToJson(order).encode("utf-8")
request = urllib.request.Request(
    f"http://{rest}/message", data=body, headers={"Content-Type": "application/json"}
)
with urllib.request.urlopen(request, timeout=10) as response:
    ack = json_format.Parse(response.read().decode("utf-8"), message_pb2.Ack())
encoded = order.SerializeToString(deterministic=True)
assert ack.digest == fnv1a64(encoded), (ack, fnv1a64(encoded))
assert ack.message_bytes == len(encoded), (ack, len(encoded))
print("ok")
