#!/usr/bin/env python3
"""Decodes a serialized event with Python's protobuf runtime, straight from
schemas/ (compiled by protoc at run time), and prints it as JSON: the test
that the Swift encoding and the .proto agree.

  python tools/decode_event.py fruits.v1.FeatureEvent FILE
"""
import os
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    message_name, path = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as work:
        descriptor_path = os.path.join(work, "events.pb")
        subprocess.run(["protoc", f"--descriptor_set_out={descriptor_path}", f"--proto_path={ROOT}/schemas",
                        "fruits/v1/events.proto"], check=True)
        files = descriptor_pb2.FileDescriptorSet.FromString(open(descriptor_path, "rb").read())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    message_class = message_factory.GetMessageClass(pool.FindMessageTypeByName(message_name))
    message = message_class.FromString(open(path, "rb").read())
    print(json_format.MessageToJson(message, preserving_proto_field_name=True, indent=None))


if __name__ == "__main__":
    main()
