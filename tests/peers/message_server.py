"""wirebench's message service (wirebench.message.MessageService) for a
user's own schema, in Python grpcio, knowing only the user's .proto and
wirebench's proto/message.proto: the server wirebench's load engine drives
to show it loads a server it did not write. Usage:
message_server.py PROTO_FILE MESSAGE DATA_FILE
Down answers line `index` (modulo the count) of the JSON Lines DATA_FILE,
parsed with json_format; Echo answers the message it decoded, encoded
again by Python (its maps in Python's order, so the client checks by
meaning). Up's Ack needs wirebench's digest and is not served here.
Prints "listening on 127.0.0.1:PORT" once it accepts."""
import concurrent.futures
import importlib
import os
import sys
import tempfile

import grpc
import grpc_tools
from google.protobuf import json_format
from grpc_tools import protoc

proto, message_name, data = sys.argv[1:4]
HERE = os.path.dirname(os.path.abspath(__file__))
OURS = os.path.join(HERE, "..", "..", "proto")
WELL_KNOWN = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
folder, name = os.path.split(os.path.abspath(proto))
out = tempfile.mkdtemp(prefix="wirebench-message-server-")
for include, file in ((folder, name), (OURS, "message.proto")):
    if protoc.main(["protoc", f"-I{include}", f"-I{WELL_KNOWN}", f"--python_out={out}", file]) != 0:
        sys.exit(f"cannot compile {file}")
sys.path.insert(0, out)
user = importlib.import_module(name[: -len(".proto")] + "_pb2")
message_pb2 = importlib.import_module("message_pb2")
Message = getattr(user, message_name.rsplit(".", 1)[1])

with open(data, encoding="utf-8") as lines:
    MESSAGES = [json_format.Parse(line, Message()) for line in lines if line.strip()]


def down(request, _context):
    return MESSAGES[request.index % len(MESSAGES)]


def echo(request, _context):
    return request


handler = grpc.method_handlers_generic_handler(
    "wirebench.message.MessageService",
    {
        "Down": grpc.unary_unary_rpc_method_handler(
            down,
            request_deserializer=message_pb2.DownRequest.FromString,
            response_serializer=Message.SerializeToString,
        ),
        "Echo": grpc.unary_unary_rpc_method_handler(
            echo,
            request_deserializer=Message.FromString,
            response_serializer=Message.SerializeToString,
        ),
    },
)
server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=10))
server.add_generic_rpc_handlers((handler,))
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(f"listening on 127.0.0.1:{port}", flush=True)
server.wait_for_termination()
