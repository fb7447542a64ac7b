"""Calls `serve message` for a user's own schema with Python's grpcio and
protobuf, which know only the user's .proto: proves the dynamic servers
speak the user's contract. Usage:
message_user_check.py PROTO_FILE MESSAGE GRPC_ADDR REST_ADDR
(both servers serve MESSAGE of PROTO_FILE with the same data). Echo over
gRPC returns the message sent; GET /message is the same message as gRPC
Down, read with json_format. Prints "ok" and exits 0 when all hold."""
import importlib
import os
import sys
import tempfile
import urllib.request

import grpc
import grpc_tools
from google.protobuf import json_format
from grpc_tools import protoc

proto, message_name, grpc_addr, rest = sys.argv[1:5]
folder, name = os.path.split(os.path.abspath(proto))
WELL_KNOWN = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
out = tempfile.mkdtemp(prefix="wirebench-user-")
assert protoc.main(["protoc", f"-I{folder}", f"-I{WELL_KNOWN}", f"--python_out={out}", name]) == 0
sys.path.insert(0, out)
module = importlib.import_module(name[: -len(".proto")] + "_pb2")
Message = getattr(module, message_name.rsplit(".", 1)[1])


def call(method, request, request_type, response_type):
    with grpc.insecure_channel(grpc_addr) as channel:
        rpc = channel.unary_unary(
            f"/wirebench.message.MessageService/{method}",
            request_serializer=request_type.SerializeToString,
            response_deserializer=response_type.FromString,
        )
        return rpc(request, timeout=10)


class Empty:
    @staticmethod
    def SerializeToString(_):
        return b""


down = call("Down", None, Empty, Message)
assert down.ListFields(), "an empty message came back"
echoed = call("Echo", down, Message, Message)
assert echoed == down, "Echo changed the message"
with urllib.request.urlopen(f"http://{rest}/message", timeout=10) as response:
    over_rest = json_format.Parse(response.read().decode("utf-8"), Message())
assert over_rest == down, "REST JSON and gRPC differ"
print("ok")
