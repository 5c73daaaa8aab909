"""What grpcurl sees, checked with an independent client: each port's
reflection lists only the services served there (plus health), resolves
google.rpc's error details so that a client can decode ErrorInfo and
BadRequest, and a method no port serves answers UNIMPLEMENTED naming it."""

import tempfile

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from dualreport_smoke import start_suite, stop_suite

SERVED = {
    "registry": {
        "dualreport.registry.v1.RegistryService",
        "dualreport.common.v1.EventJournalService",
        "dualreport.common.v1.AuditLogService",
    },
    "volunteering": {
        "dualreport.volunteering.v1.VolunteeringService",
        "dualreport.common.v1.EventJournalService",
        "dualreport.common.v1.AuditLogService",
    },
    "scoring": {
        "dualreport.scoring.v1.ScoringService",
        "dualreport.common.v1.EventJournalService",
        "dualreport.common.v1.AuditLogService",
    },
    "feedback": {
        "dualreport.feedback.v1.FeedbackService",
        "dualreport.common.v1.EventJournalService",
        "dualreport.common.v1.AuditLogService",
    },
    "city": {"dualreport.city.v1.CityService", "dualreport.common.v1.AuditLogService"},
}


@pytest.fixture(scope="module")
def suite():
    with tempfile.TemporaryDirectory() as data:
        processes = start_suite(data, with_city=True)
        try:
            yield processes
        finally:
            stop_suite(processes)


def listed(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    [answer] = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    return {s.name for s in answer.list_services_response.service}


@pytest.mark.parametrize("name", sorted(SERVED))
def test_each_port_lists_only_what_it_serves(suite, name):
    services = listed(suite[name].channel)
    assert services - {"grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"} == SERVED[name] | {"grpc.health.v1.Health"}


@pytest.mark.parametrize("name", sorted(SERVED))
def test_error_details_decode_through_reflection(suite, name):
    pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(suite[name].channel))
    for type_name in ("google.rpc.Status", "google.rpc.ErrorInfo", "google.rpc.BadRequest"):
        assert pool.FindMessageTypeByName(type_name).full_name == type_name
    # A real error's details, decoded with nothing but what reflection gave.
    call = suite[name].channel.unary_unary(f"/{sorted(SERVED[name])[-1]}/{'GetMember' if name == 'registry' else 'Nope'}")
    with pytest.raises(grpc.RpcError) as refused:
        call(b"\x0a\x05" + b"\xff" * 5, metadata=[("authorization", "Bearer " + suite[name].token("--role", "city_admin", "--org", "city"))])
    trailers = dict(refused.value.trailing_metadata() or ())
    if name == "registry":
        status_cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("google.rpc.Status"))
        status = status_cls.FromString(trailers["grpc-status-details-bin"])
        info = message_factory.GetMessageClass(pool.FindMessageTypeByName("google.rpc.ErrorInfo"))()
        assert any(d.Unpack(info) for d in status.details), status
        assert info.reason.startswith("ERROR_REASON_"), info
    else:
        assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_an_unknown_method_is_named(suite):
    for path in ("/dualreport.nope.v1.Nope/Call", "/dualreport.registry.v1.RegistryService/NoSuchRpc"):
        call = suite["registry"].channel.unary_unary(path)
        with pytest.raises(grpc.RpcError) as refused:
            call(b"", metadata=[("authorization", "Bearer " + suite["registry"].token("--role", "city_admin", "--org", "city"))])
        assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "NoSuchRpc" in refused.value.details() or "dualreport.nope.v1.Nope/Call" in refused.value.details(), refused.value.details()
