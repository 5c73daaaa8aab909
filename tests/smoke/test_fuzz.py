"""Bounded fuzz of every method of every service (issue 13, "keep it fixed"):
requests built from the servers' own reflection, then mutated — garbage,
truncation, wrong wire types, invalid UTF-8, huge strings, extreme numbers,
unknown enum values, bad page tokens, far-future dates — and sent as raw bytes
by an independent client (Python grpcio) with a city-admin token. No answer may
be INTERNAL or UNKNOWN (those mean a bug of ours), and every service must still
be SERVING afterwards. Seeded, so a failure reproduces."""

import random
import tempfile

import grpc
import pytest
from google.protobuf import descriptor as d
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dualreport_smoke import Reflected, start_suite, stop_suite

SERVICES = {
    "registry": ["dualreport.registry.v1.RegistryService", "dualreport.common.v1.EventJournalService"],
    "scoring": ["dualreport.scoring.v1.ScoringService", "dualreport.common.v1.EventJournalService"],
    "volunteering": ["dualreport.volunteering.v1.VolunteeringService", "dualreport.common.v1.EventJournalService"],
    "feedback": ["dualreport.feedback.v1.FeedbackService"],
    "city": ["dualreport.city.v1.CityService", "dualreport.common.v1.AuditLogService"],
}
FORBIDDEN = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
INT_TYPES = {
    d.FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
}


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number, wire):
    return varint(number << 3 | wire)


def length_delimited(number, payload):
    return tag(number, 2) + varint(len(payload)) + payload


@pytest.fixture(scope="module")
def suite():
    with tempfile.TemporaryDirectory() as data:
        processes = start_suite(
            data,
            with_city=True,
            registry_env=dict(
                DUALREPORT__POLICY__UNIT_REPORT_WINDOW_START="01-01",
                DUALREPORT__POLICY__UNIT_REPORT_WINDOW_END="12-31",
            ),
        )
        try:
            yield processes
        finally:
            stop_suite(processes)


def seed_city(registry_process):
    """A district, a community and a unit, so ids in fuzzed requests name real
    objects and the calls reach past their first lookup."""
    registry = Reflected(registry_process.channel, "dualreport.registry.v1.RegistryService")
    city = registry_process.token("--role", "city_admin", "--org", "city")

    def org(name, kind, parent):
        return registry.call(
            "CreateOrganization",
            city,
            request_id=f"fuzz-{name}",
            organization=registry.message(
                "dualreport.registry.v1.OrganizationInput",
                name=name,
                type=registry.enum("dualreport.registry.v1.OrganizationType", f"ORGANIZATION_TYPE_{kind}"),
                parent_id=parent,
                in_service_member_count=1,
            ),
        ).organization.id

    district = org("模糊区", "DISTRICT", "city")
    street = org("模糊街道", "STREET", district)
    community = org("模糊社区", "COMMUNITY", street)
    unit = org("模糊机关党委", "ORGAN", district)
    return {"district": district, "community": community, "unit": unit}


class Builder:
    """Plausible messages for any descriptor: ids from the seeded city, one
    element per repeated field, nested messages two levels deep."""

    def __init__(self, ids, rng):
        self.ids = ids
        self.rng = rng

    def string_for(self, field):
        name = field.name
        if "community" in name:
            return self.ids["community"]
        if "unit" in name:
            return self.ids["unit"]
        if "district" in name or name in ("organization_id", "parent_id", "org_id"):
            return self.ids["district"]
        if name == "request_id":
            return f"fuzz-{self.rng.randrange(10**9)}"
        if name == "page_token":
            return ""
        return "模糊x"

    def fill(self, msg, depth=0):
        for field in msg.DESCRIPTOR.fields:
            if field.containing_oneof is not None and field.containing_oneof.fields[0] is not field:
                continue
            repeated = field.is_repeated
            if field.type == d.FieldDescriptor.TYPE_MESSAGE:
                if depth >= 2 or field.message_type.GetOptions().map_entry:
                    continue
                if field.message_type.full_name == "google.protobuf.Timestamp":
                    target = getattr(msg, field.name).add() if repeated else getattr(msg, field.name)
                    target.seconds = 1_780_000_000
                    continue
                target = getattr(msg, field.name).add() if repeated else getattr(msg, field.name)
                if field.message_type.full_name == "dualreport.common.v1.Date":
                    target.year, target.month, target.day = 2026, 6, 1
                    continue
                self.fill(target, depth + 1)
                continue
            value = self.scalar(field)
            if repeated:
                getattr(msg, field.name).append(value)
            else:
                setattr(msg, field.name, value)
        return msg

    def scalar(self, field):
        t = field.type
        if t == d.FieldDescriptor.TYPE_STRING:
            return self.string_for(field)
        if t == d.FieldDescriptor.TYPE_BYTES:
            return b"\x89PNG\r\n\x1a\n" + bytes(16)
        if t == d.FieldDescriptor.TYPE_BOOL:
            return True
        if t == d.FieldDescriptor.TYPE_ENUM:
            values = [v.number for v in field.enum_type.values if v.number != 0]
            return values[0] if values else 0
        if t in (d.FieldDescriptor.TYPE_DOUBLE, d.FieldDescriptor.TYPE_FLOAT):
            return 1.0
        return 1


def walk(msg, visit, depth=0):
    """Calls `visit(msg, field)` for every set scalar field, nested ones too."""
    for field, value in msg.ListFields():
        if field.type == d.FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                for item in value:
                    walk(item, visit, depth + 1)
            else:
                walk(value, visit, depth + 1)
        else:
            visit(msg, field)


def mutants(cls, builder, rng):
    """(what, bytes) pairs for one method's request type."""
    base = builder.fill(cls())
    good = base.SerializeToString()
    yield "plausible", good
    yield "empty", b""
    yield "garbage", bytes(rng.randrange(256) for _ in range(64))
    yield "invalid varint", b"\xff" * 11
    if len(good) > 1:
        yield "truncated", good[: len(good) // 2]
    for field in cls.DESCRIPTOR.fields[:6]:
        if field.type in (d.FieldDescriptor.TYPE_STRING, d.FieldDescriptor.TYPE_BYTES, d.FieldDescriptor.TYPE_MESSAGE):
            yield f"wrong wire type {field.name}", tag(field.number, 0) + varint(1)
        else:
            yield f"wrong wire type {field.name}", length_delimited(field.number, b"a")
        if field.type == d.FieldDescriptor.TYPE_STRING:
            yield f"invalid UTF-8 {field.name}", good + length_delimited(field.number, b"\xff\xfe")

    def mutated(change):
        msg = cls()
        msg.CopyFrom(base)
        walk(msg, change)
        return msg.SerializeToString()

    def huge(msg, field):
        if field.type == d.FieldDescriptor.TYPE_STRING and not field.is_repeated:
            setattr(msg, field.name, "长" * 100_000)

    def extreme(high):
        def change(msg, field):
            if field.type in INT_TYPES and not field.is_repeated:
                low, top = INT_TYPES[field.type]
                setattr(msg, field.name, top if high else low)

        return change

    def unknown_enum(msg, field):
        if field.type == d.FieldDescriptor.TYPE_ENUM and not field.is_repeated:
            setattr(msg, field.name, 999)

    def bad_token(msg, field):
        if field.name == "page_token":
            setattr(msg, field.name, rng.choice(["!!not-a-token!!", "AAAA", "eyJ4IjoxfQ", "\u0000" * 3]))
        if field.name == "cursor":
            setattr(msg, field.name, "ev1.99999999999999999999")

    def far_future(msg, field):
        if msg.DESCRIPTOR.full_name == "dualreport.common.v1.Date":
            msg.year, msg.month, msg.day = 9999, 13, 32
        elif msg.DESCRIPTOR.full_name == "google.protobuf.Timestamp":
            msg.seconds, msg.nanos = 253_402_300_800 * 4, 2_000_000_000

    yield "huge strings", mutated(huge)
    yield "max numbers", mutated(extreme(True))
    yield "min numbers", mutated(extreme(False))
    yield "unknown enums", mutated(unknown_enum)
    yield "bad page tokens", mutated(bad_token)
    yield "far-future dates", mutated(far_future)


def call(channel, path, method, body, metadata):
    identity = lambda b: b
    try:
        if method.client_streaming:
            rpc = channel.stream_unary(path, request_serializer=identity, response_deserializer=identity)
            rpc(iter([body]), metadata=metadata, timeout=8)
        elif method.server_streaming:
            rpc = channel.unary_stream(path, request_serializer=identity, response_deserializer=identity)
            for _ in rpc(body, metadata=metadata, timeout=2):
                pass
        else:
            rpc = channel.unary_unary(path, request_serializer=identity, response_deserializer=identity)
            rpc(body, metadata=metadata, timeout=8)
    except grpc.RpcError as error:
        return error.code(), error.details()
    return grpc.StatusCode.OK, ""


def test_no_method_answers_internal_to_hostile_bytes(suite):
    ids = seed_city(suite["registry"])
    rng = random.Random(13)
    builder = Builder(ids, rng)
    token = suite["registry"].token("--role", "city_admin", "--org", "city")
    metadata = [("authorization", f"Bearer {token}")]
    failures, calls = [], 0
    for name, services in SERVICES.items():
        process = suite[name]
        for service in services:
            reflected = Reflected(process.channel, service)
            for method in reflected.service.methods:
                cls = message_factory.GetMessageClass(method.input_type)
                path = f"/{service}/{method.name}"
                for what, body in mutants(cls, builder, rng):
                    code, details = call(process.channel, path, method, body, metadata)
                    calls += 1
                    if code in FORBIDDEN:
                        failures.append(f"{name} {method.name} [{what}]: {code.name} {details[:120]}")
    for name, process in suite.items():
        health = health_pb2_grpc.HealthStub(process.channel)
        reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, name
    assert calls > 500, calls
    assert not failures, f"{len(failures)} of {calls} calls failed:\n" + "\n".join(failures)
