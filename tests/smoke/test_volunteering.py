"""Smoke test of volunteering with an independent client (Python grpcio): the
real `registry`, `scoring` and `volunteering` binaries as processes. A member
registered in the registry checks in to an activity with the organiser's
code; the community confirms it; volunteering's relay pays it to scoring,
where the member's balance shows the points."""

import datetime
import tempfile
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dualreport_smoke import Process, Reflected

REGISTRY = "dualreport.registry.v1.RegistryService"
SCORING = "dualreport.scoring.v1.ScoringService"
VOLUNTEERING = "dualreport.volunteering.v1.VolunteeringService"


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
        scoring = Process("scoring", data, DUALREPORT__REGISTRY__URL=f"http://127.0.0.1:{registry.port}")
        volunteering = Process(
            "volunteering",
            data,
            DUALREPORT__REGISTRY__URL=f"http://127.0.0.1:{registry.port}",
            DUALREPORT__SCORING__URL=f"http://127.0.0.1:{scoring.port}",
            DUALREPORT__EVIDENCE__STORE=f"file://{data}/evidence",
            DUALREPORT__RELAY__POLL_INTERVAL_MS="100",
        )
        try:
            yield registry, scoring, volunteering
        finally:
            assert volunteering.stop() == 0
            assert scoring.stop() == 0
            assert registry.stop() == 0


def test_volunteering_is_healthy_and_reflected(suite):
    volunteering = suite[2]
    health = health_pb2_grpc.HealthStub(volunteering.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service=VOLUNTEERING), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    methods = Reflected(volunteering.channel, VOLUNTEERING).service.methods_by_name
    assert {"ClaimPost", "CheckIn", "ConfirmAttendance", "PlaceOrder", "UploadEvidence"} <= set(methods)


def test_a_confirmed_attendance_is_paid_into_scoring(suite):
    registry_process, scoring_process, volunteering_process = suite
    registry = Reflected(registry_process.channel, REGISTRY)
    scoring = Reflected(scoring_process.channel, SCORING)
    volunteering = Reflected(volunteering_process.channel, VOLUNTEERING)
    city = registry_process.token("--role", "city_admin", "--org", "city")
    year = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).year

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

    district = org("二七区", "DISTRICT", "city")
    street = org("建中街街道", "STREET", district)
    community = org("兴华社区", "COMMUNITY", street)
    unit = org("区人社局机关党委", "ORGAN", district)
    member = registry.call(
        "CreateMember",
        registry_process.token("--role", "unit_admin", "--org", unit),
        profile=registry.message(
            "dualreport.registry.v1.MemberProfile",
            name="李明",
            gender=1,
            birth_year=1990,
            joined_party_on=registry.message("dualreport.common.v1.Date", year=2012, month=7, day=1),
            membership_status=1,
            category=1,
            unit_org_id=unit,
            home_address="河南省郑州市二七区兴华街1号",
            residence_community_id=community,
            phone="13912345678",
            skills=["摄影"],
            service_intentions=["文体活动服务岗", "环境卫生保洁岗"],
        ),
    ).member
    me = registry_process.token("--role", "member", "--member", member.id)
    admin = registry_process.token("--role", "community_admin", "--org", community)
    report = registry.call("SubmitMemberReport", me, member_id=member.id, community_id=community, year=year).report
    registry.call("ConfirmMemberReport", admin, report_id=report.id, branch="第一党支部")

    posts = volunteering.call("ListPosts", admin, community_id=community).posts
    assert len(posts) == 15 and posts[0].standard

    now = int(time.time())
    stamp = lambda seconds: volunteering.message("google.protobuf.Timestamp", seconds=seconds)
    activity = volunteering.call(
        "CreateActivity",
        admin,
        community_id=community,
        kind=volunteering.enum("dualreport.volunteering.v1.ActivityKind", "ACTIVITY_KIND_REGULAR"),
        title="重阳节敬老",
        place="社区活动室",
        start_time=stamp(now - 600),
        end_time=stamp(now + 3000),
        capacity=20,
        organiser="第一党支部",
    ).activity
    code = volunteering.call("IssueCheckInCode", admin, activity_id=activity.id).code
    with pytest.raises(grpc.RpcError) as refused:
        volunteering.call("CheckIn", me, activity_id=activity.id, member_id=member.id, code="12345")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "code" in refused.value.details()
    attendance = volunteering.call("CheckIn", me, activity_id=activity.id, member_id=member.id, code=code).attendance
    volunteering.call("ConfirmAttendance", admin, attendance_id=attendance.id, adjustment=1)

    paid = volunteering.enum("dualreport.volunteering.v1.PaymentStatus", "PAYMENT_STATUS_PAID")
    for _ in range(100):
        rows = volunteering.call("ListAttendance", me, member_id=member.id, year=year).attendance
        if rows and rows[0].payment == paid:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"not paid: {rows}")
    subject = scoring.message(
        "dualreport.scoring.v1.Subject",
        kind=scoring.enum("dualreport.scoring.v1.SubjectKind", "SUBJECT_KIND_MEMBER"),
        id=member.id,
    )
    balance = scoring.call("GetBalance", me, subject=subject)
    assert balance.lifetime_earned == 6
