"""Smoke test of scoring with an independent client (Python grpcio): the real
`registry` and `scoring` binaries as processes, scoring asking the registry
over gRPC with its own service credentials. Health and reflection without a
token; then one flow with development tokens: a member reports and is
confirmed in the registry, the community awards a service in scoring, a
redelivery is not counted twice, a bad adjustment names its field, and the
member reads the balance."""

import datetime
import tempfile

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dualreport_smoke import Process, Reflected

REGISTRY = "dualreport.registry.v1.RegistryService"
SCORING = "dualreport.scoring.v1.ScoringService"


@pytest.fixture(scope="module")
def suite():
    with tempfile.TemporaryDirectory() as data:
        registry = Process(
            "registry",
            data,
            DUALREPORT__REGISTRY__PII_ACTIVE_KEY="k1",
            DUALREPORT__REGISTRY__PII_KEYS__K1="c21va2Uta2V5LXNtb2tlLWtleS1zbW9rZS1rZXkhISE=",
            DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_START="01-01",
            DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_END="12-31",
        )
        scoring = Process(
            "scoring", data, DUALREPORT__REGISTRY__URL=f"http://127.0.0.1:{registry.port}"
        )
        try:
            yield registry, scoring
        finally:
            assert scoring.stop() == 0
            assert registry.stop() == 0


def test_scoring_is_healthy_and_reflected(suite):
    _, scoring = suite
    health = health_pb2_grpc.HealthStub(scoring.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service=SCORING), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    methods = Reflected(scoring.channel, SCORING).service.methods_by_name
    assert {"RecordService", "SettlePeriod", "GetBoard", "Redeem"} <= set(methods)


def test_a_service_is_awarded_once_and_read_back(suite):
    registry_process, scoring_process = suite
    registry = Reflected(registry_process.channel, REGISTRY)
    scoring = Reflected(scoring_process.channel, SCORING)
    city = registry_process.token("--role", "city_admin", "--org", "city")
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()

    def org(name, kind, parent):
        return registry.call(
            "CreateOrganization",
            city,
            organization=registry.message(
                "dualreport.registry.v1.OrganizationInput",
                name=name,
                type=registry.enum("dualreport.registry.v1.OrganizationType", f"ORGANIZATION_TYPE_{kind}"),
                parent_id=parent,
                in_service_member_count=1,
            ),
        ).organization.id

    district = org("金水区", "DISTRICT", "city")
    street = org("花园路街道", "STREET", district)
    community = org("农科路社区", "COMMUNITY", street)
    unit = org("市卫健委机关党委", "ORGAN", district)
    member = registry.call(
        "CreateMember",
        registry_process.token("--role", "unit_admin", "--org", unit),
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
    me = registry_process.token("--role", "member", "--member", member.id)
    admin = registry_process.token("--role", "community_admin", "--org", community)
    report = registry.call(
        "SubmitMemberReport", me, member_id=member.id, community_id=community, year=today.year
    ).report
    registry.call("ConfirmMemberReport", admin, report_id=report.id, branch="第一党支部")

    # Tokens minted by scoring's own binary: the same development key.
    scoring_admin = scoring_process.token("--role", "community_admin", "--org", community)

    def award(adjustment):
        return scoring.call(
            "RecordService",
            scoring_admin,
            source_key="attendance:smoke-1",
            member_id=member.id,
            community_id=community,
            served_on=scoring.message(
                "dualreport.common.v1.Date", year=today.year, month=today.month, day=today.day
            ),
            content="社区环境卫生保洁",
            adjustment=adjustment,
        ).entry

    first = award(2)
    assert (first.base_points, first.adjustment, first.points) == (5, 2, 7)
    assert award(2).id == first.id, "a redelivered source key is the same entry"

    with pytest.raises(grpc.RpcError) as refused:
        award(5)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "adjustment" in refused.value.details()
    trailers = dict(refused.value.trailing_metadata())
    assert "grpc-status-details-bin" in trailers, "google.rpc details travel with the status"

    subject = scoring.message(
        "dualreport.scoring.v1.Subject",
        kind=scoring.enum("dualreport.scoring.v1.SubjectKind", "SUBJECT_KIND_MEMBER"),
        id=member.id,
    )
    balance = scoring.call("GetBalance", scoring_process.token("--role", "member", "--member", member.id), subject=subject)
    assert balance.lifetime_earned == 7
    assert (balance.accounts[0].community_id, balance.accounts[0].spendable) == (community, 7)
