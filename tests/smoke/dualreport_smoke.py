"""Helpers of the smoke tests: start a real service binary on a fresh SQLite
file, mint development tokens with the binary itself, and call any RPC with
message classes built from the server's own reflection — knowing nothing of
our Rust code."""

import os
import socket
import subprocess
from pathlib import Path

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"
SECRET = "smoke-test-secret-0123456789abcdefghij"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A service binary listening on a free port; `stop()` sends SIGTERM."""

    def __init__(self, name, data_dir, **env):
        self.name = name
        self.port = free_port()
        self.env = dict(
            {k: v for k, v in os.environ.items() if not k.startswith("DUALREPORT")},
            DUALREPORT__SERVER__HOST="127.0.0.1",
            DUALREPORT__SERVER__PORT=str(self.port),
            DUALREPORT__SERVER__METRICS_PORT="0",
            DUALREPORT__DATABASE__URL=f"sqlite://{data_dir}/{name}.db?mode=rwc",
            DUALREPORT__AUTH__DEV_HS256_SECRET=SECRET,
            RUST_LOG="warn",
            **env,
        )
        self.proc = subprocess.Popen([str(BIN / name), "serve"], env=self.env)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self.channel).result(timeout=30)

    def token(self, *args):
        out = subprocess.run(
            [str(BIN / self.name), "token", *args],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def stop(self):
        self.channel.close()
        self.proc.terminate()
        return self.proc.wait(timeout=30)


def start_suite(data, registry_env=None, feedback_env=None, with_city=False):
    """Registry, scoring, volunteering and feedback on fresh SQLite files in
    `data`, wired to each other, started in dependency order: a dict by name.
    `with_city` adds the city tier reading this suite as its one district, `local`."""
    registry = Process(
        "registry",
        data,
        DUALREPORT__REGISTRY__PII_ACTIVE_KEY="k1",
        DUALREPORT__REGISTRY__PII_KEYS__K1="c21va2Uta2V5LXNtb2tlLWtleS1zbW9rZS1rZXkhISE=",
        DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_START="01-01",
        DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_END="12-31",
        **(registry_env or {}),
    )
    url = lambda p: f"http://127.0.0.1:{p.port}"
    scoring = Process("scoring", data, DUALREPORT__REGISTRY__URL=url(registry))
    volunteering = Process(
        "volunteering",
        data,
        DUALREPORT__REGISTRY__URL=url(registry),
        DUALREPORT__SCORING__URL=url(scoring),
        DUALREPORT__EVIDENCE__STORE=f"file://{data}/evidence",
    )
    feedback = Process(
        "feedback",
        data,
        DUALREPORT__REGISTRY__URL=url(registry),
        DUALREPORT__SCORING__URL=url(scoring),
        DUALREPORT__VOLUNTEERING__URL=url(volunteering),
        **(feedback_env or {}),
    )
    suite = {"registry": registry, "scoring": scoring, "volunteering": volunteering, "feedback": feedback}
    if with_city:
        districts = {
            f"DUALREPORT__DISTRICTS__LOCAL__{name.upper()}__URL": url(process) for name, process in suite.items()
        }
        suite["city"] = Process("city", data, DUALREPORT__CITY__POLL_INTERVAL_MS="100", **districts)
    return suite


def stop_suite(processes):
    """Stops the processes in reverse order; each must exit cleanly."""
    for process in reversed(list(processes.values())):
        assert process.stop() == 0, process.name


class Reflected:
    """Calls one gRPC service with message classes built from reflection."""

    def __init__(self, channel, service):
        self.channel = channel
        self.name = service
        self.pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
        self.service = self.pool.FindServiceByName(service)

    def message(self, type_name, **fields):
        cls = message_factory.GetMessageClass(self.pool.FindMessageTypeByName(type_name))
        return cls(**fields)

    def enum(self, type_name, value_name):
        return self.pool.FindEnumTypeByName(type_name).values_by_name[value_name].number

    def call(self, method, token, **fields):
        m = self.service.methods_by_name[method]
        request = message_factory.GetMessageClass(m.input_type)(**fields)
        response_cls = message_factory.GetMessageClass(m.output_type)
        rpc = self.channel.unary_unary(
            f"/{self.name}/{method}",
            request_serializer=lambda msg: msg.SerializeToString(),
            response_deserializer=response_cls.FromString,
        )
        return rpc(request, metadata=[("authorization", f"Bearer {token}")], timeout=10)

    def stream(self, method, token, **fields):
        """A server-streaming call: every response, until the server ends the stream."""
        m = self.service.methods_by_name[method]
        request = message_factory.GetMessageClass(m.input_type)(**fields)
        response_cls = message_factory.GetMessageClass(m.output_type)
        rpc = self.channel.unary_stream(
            f"/{self.name}/{method}",
            request_serializer=lambda msg: msg.SerializeToString(),
            response_deserializer=response_cls.FromString,
        )
        return list(rpc(request, metadata=[("authorization", f"Bearer {token}")], timeout=10))
