"""Smoke test of the registry with an independent client: Python grpcio.

It starts the real `registry` binary on a fresh SQLite file, checks health
and reflection without a token, then — knowing nothing of our Rust code —
builds every message type from the server's own reflection and walks the
member-reporting path with development tokens: letter → report → confirm →
receipt → statistics.
"""

import datetime
import tempfile

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from dualreport_smoke import Process, Reflected

SERVICE = "dualreport.registry.v1.RegistryService"


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory() as data:
        process = Process(
            "registry",
            data,
            DUALREPORT__REGISTRY__PII_ACTIVE_KEY="k1",
            DUALREPORT__REGISTRY__PII_KEYS__K1="c21va2Uta2V5LXNtb2tlLWtleS1zbW9rZS1rZXkhISE=",
            DUALREPORT__POLICY__PRESET="S3",
            DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_START="01-01",
            DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_END="12-31",
        )
        try:
            yield {"channel": process.channel, "process": process}
        finally:
            assert process.stop() == 0, "graceful shutdown on SIGTERM exits 0"


def token(server, *args):
    return server["process"].token(*args)


def Registry(channel):
    return Reflected(channel, SERVICE)


def test_health_and_reflection_need_no_token(server):
    health = health_pb2_grpc.HealthStub(server["channel"])
    reply = health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(server["channel"])
    replies = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
    )
    listed = {s.name for reply in replies for s in reply.list_services_response.service}
    assert SERVICE in listed and "grpc.health.v1.Health" in listed, listed
    registry = Registry(server["channel"])
    assert "SubmitMemberReport" in registry.service.methods_by_name


def test_calls_without_a_valid_token_are_refused(server):
    registry = Registry(server["channel"])
    with pytest.raises(grpc.RpcError) as refused:
        registry.call("GetPolicy", "not-a-token")
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_letter_report_confirm_receipt_statistics(server):
    env = server
    registry = Registry(server["channel"])
    city = token(env, "--role", "city_admin", "--org", "city")
    year = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).year

    def org(name, kind, parent):
        t = registry.pool.FindEnumTypeByName("dualreport.registry.v1.OrganizationType")
        reply = registry.call(
            "CreateOrganization",
            city,
            organization=registry.message(
                "dualreport.registry.v1.OrganizationInput",
                name=name,
                type=t.values_by_name[f"ORGANIZATION_TYPE_{kind}"].number,
                parent_id=parent,
                in_service_member_count=1,
            ),
        )
        return reply.organization.id

    district = org("金水区", "DISTRICT", "city")
    street = org("花园路街道", "STREET", district)
    community = org("农科路社区", "COMMUNITY", street)
    unit = org("市卫健委机关党委", "ORGAN", district)

    unit_admin = token(env, "--role", "unit_admin", "--org", unit)
    community_admin = token(env, "--role", "community_admin", "--org", community)
    member = registry.call(
        "CreateMember",
        unit_admin,
        profile=registry.message(
            "dualreport.registry.v1.MemberProfile",
            name="王芳",
            gender=2,
            birth_year=1985,
            joined_party_on=registry.message("dualreport.common.v1.Date", year=2008, month=7, day=1),
            membership_status=1,
            category=1,
            unit_org_id=unit,
            home_address="河南省郑州市金水区农科路8号",
            residence_community_id=community,
            phone="13812345678",
            skills=["医疗保健"],
            service_intentions=["医疗卫生服务岗", "文体活动服务岗"],
        ),
    ).member
    assert member.profile.phone == "138****5678"
    me = token(env, "--role", "member", "--member", member.id)

    # S3: the member needs the unit's introduction letter.
    with pytest.raises(grpc.RpcError) as refused:
        registry.call("SubmitMemberReport", me, member_id=member.id, community_id=community, year=year)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    letter = registry.call(
        "IssueIntroductionLetter", unit_admin, member_id=member.id, community_id=community, year=year
    ).letter
    report = registry.call(
        "SubmitMemberReport",
        me,
        request_id="smoke-1",
        member_id=member.id,
        community_id=community,
        year=year,
        letter_id=letter.id,
    ).report
    # The community works from its queue and confirms it in one batch.
    submitted = registry.enum("dualreport.registry.v1.MemberReportStatus", "MEMBER_REPORT_STATUS_SUBMITTED")
    queue = registry.call("ListMemberReports", community_admin, org_id=community, status=submitted).reports
    assert [r.id for r in queue] == [report.id]
    confirm = registry.message(
        "dualreport.registry.v1.ConfirmMemberReportRequest",
        request_id="smoke-confirm",
        report_id=report.id,
        branch="第一党支部",
    )
    results = registry.call("BatchConfirmMemberReports", community_admin, requests=[confirm]).results
    assert len(results) == 1 and not results[0].HasField("error"), results
    confirmed = results[0].report
    assert confirmed.receipt.number.endswith("-M-000001")
    assert not registry.call("ListMemberReports", community_admin, org_id=community, status=submitted).reports

    # Every change is in the trail, and the trail exports as one CSV streamed a page at a time.
    audit = Reflected(server["channel"], "dualreport.common.v1.AuditLogService")
    query = audit.message("dualreport.common.v1.ListAuditRecordsRequest", org_id=district, page_size=2)
    chunks = audit.stream("ExportAuditRecords", city, query=query)
    assert chunks[0].file_name == f"audit-{district}.csv" and len(chunks) >= 3, chunks
    lines = b"".join(c.chunk for c in chunks).decode("utf-8-sig").strip().split("\r\n")
    assert lines[0].startswith("时间,操作者,角色")
    assert any("ConfirmMemberReport" in line for line in lines[1:]), lines

    receipt = registry.call("GetReceipt", unit_admin, number=confirmed.receipt.number).receipt
    assert receipt.unit_org_id == unit and receipt.member_id == member.id

    stats = registry.call("GetReportStatistics", city, org_id=district, year=year)
    line = next(u for u in stats.units if u.unit_org_id == unit)
    assert (line.registered_members, line.reported_members) == (1, 1)
    assert next(c for c in stats.communities if c.community_id == community).members_reported == 1
