"""Smoke test of feedback with an independent client (Python grpcio): the real
`registry`, `scoring`, `volunteering` and `feedback` binaries as processes. A
member's confirmed report reaches the party-building cloud feed (read as the
`cloud` role and resumed from a cursor), and the unit's summary table shows
the member as reported; the city tier, reading this suite as its district
`local`, carries the same event on the city's feed."""

import datetime
import tempfile
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dualreport_smoke import Reflected, start_suite, stop_suite

REGISTRY = "dualreport.registry.v1.RegistryService"
FEEDBACK = "dualreport.feedback.v1.FeedbackService"
CITY = "dualreport.city.v1.CityService"


@pytest.fixture(scope="module")
def suite():
    with tempfile.TemporaryDirectory() as data:
        processes = start_suite(data, feedback_env=dict(DUALREPORT__FEED__POLL_INTERVAL_MS="100"), with_city=True)
        try:
            yield list(processes.values())
        finally:
            stop_suite(processes)


def test_feedback_is_healthy_and_reflected(suite):
    feedback = suite[3]
    health = health_pb2_grpc.HealthStub(feedback.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service=FEEDBACK), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    methods = Reflected(feedback.channel, FEEDBACK).service.methods_by_name
    assert {"GetSummaryTable", "SendNotice", "RaiseObjection", "WatchEvents", "ExportTable"} <= set(methods)


def test_a_confirmed_report_reaches_the_cloud_feed_and_the_summary(suite):
    registry_process, feedback_process = suite[0], suite[3]
    registry = Reflected(registry_process.channel, REGISTRY)
    feedback = Reflected(feedback_process.channel, FEEDBACK)
    city = registry_process.token("--role", "city_admin", "--org", "city")
    cloud = registry_process.token("--role", "cloud")
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

    district = org("中原区", "DISTRICT", "city")
    street = org("林山寨街道", "STREET", district)
    community = org("百花社区", "COMMUNITY", street)
    unit = org("区教育局机关党委", "ORGAN", district)
    unit_admin = registry_process.token("--role", "unit_admin", "--org", unit)
    member = registry.call(
        "CreateMember",
        unit_admin,
        profile=registry.message(
            "dualreport.registry.v1.MemberProfile",
            name="韩梅",
            gender=2,
            birth_year=1988,
            joined_party_on=registry.message("dualreport.common.v1.Date", year=2010, month=7, day=1),
            membership_status=1,
            category=1,
            unit_org_id=unit,
            home_address="河南省郑州市中原区百花路2号",
            residence_community_id=community,
            phone="13812345678",
            skills=["教育"],
            service_intentions=["学生关怀服务岗", "文体活动服务岗"],
        ),
    ).member
    me = registry_process.token("--role", "member", "--member", member.id)
    admin = registry_process.token("--role", "community_admin", "--org", community)
    report = registry.call("SubmitMemberReport", me, member_id=member.id, community_id=community, year=year).report
    registry.call("ConfirmMemberReport", admin, report_id=report.id, branch="第一党支部")

    for _ in range(100):
        events = [r.event for r in feedback.stream("WatchEvents", cloud, backlog_only=True)]
        confirmed = [e for e in events if e.kind == "member_report.confirmed" and e.member_id == member.id]
        if confirmed:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"no confirmation in the feed: {events}")
    event = confirmed[0]
    assert (event.source, event.community_id, event.district_id, event.unit_org_id) == ("registry", community, district, unit)
    # Resuming from a cursor gives exactly the events after it.
    everything = [r.event for r in feedback.stream("WatchEvents", cloud, backlog_only=True)]
    position = [e.cursor for e in everything].index(event.cursor)
    resumed = [r.event for r in feedback.stream("WatchEvents", cloud, cursor=event.cursor, backlog_only=True)]
    assert resumed == everything[position + 1 :]
    with pytest.raises(grpc.RpcError) as refused:
        feedback.stream("WatchEvents", cloud, cursor="not-a-cursor", backlog_only=True)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    period = feedback.message("dualreport.common.v1.Period", year=year, half=0)
    table = feedback.call("GetSummaryTable", unit_admin, unit_org_id=unit, period=period).table
    assert table.complete
    assert [(r.name, r.reported) for r in table.rows] == [("韩梅", True)]

    # The same table as a file: in one reply, and streamed in chunks.
    export = feedback.message(
        "dualreport.feedback.v1.ExportTableRequest",
        kind=feedback.enum("dualreport.feedback.v1.TableKind", "TABLE_KIND_SUMMARY"),
        format=feedback.enum("dualreport.feedback.v1.ExportFormat", "EXPORT_FORMAT_CSV"),
        unit_org_id=unit,
        period=period,
    )
    whole = feedback.call(
        "ExportTable",
        unit_admin,
        kind=export.kind,
        format=export.format,
        unit_org_id=unit,
        period=period,
    )
    chunks = feedback.stream("DownloadTable", unit_admin, table=export)
    assert chunks[0].file_name == whole.file_name
    assert b"".join(c.chunk for c in chunks) == whole.content
    assert "韩梅" in whole.content.decode("utf-8-sig")

    # The city tier's feed: the same fact, once, with the district it came from.
    city_tier = Reflected(suite[4].channel, CITY)
    for _ in range(100):
        fed = city_tier.stream("WatchEvents", cloud, backlog_only=True)
        same = [r for r in fed if r.event.kind == "member_report.confirmed" and r.event.member_id == member.id]
        if same:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"no confirmation in the city feed: {fed}")
    assert len(same) == 1 and same[0].district == "local"
    assert (same[0].event.subject_id, same[0].event.community_id) == (event.subject_id, event.community_id)
    status = city_tier.call("ListDistricts", city).districts
    assert {(d.district, d.journal) for d in status} == {("local", j) for j in ("registry", "volunteering", "scoring", "feedback")}
    assert all(d.up for d in status), status
    with pytest.raises(grpc.RpcError) as refused:
        city_tier.call("ListDistricts", admin)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
