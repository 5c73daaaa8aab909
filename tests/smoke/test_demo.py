"""`make demo` against the real binaries: the seed fills registry,
volunteering, scoring and feedback through their gRPC APIs, an independent
client finds the city populated (reports, the board, claims, confirmed
attendance paid to scoring, notices, an upheld objection, the cloud's feed),
and a second run adds nothing."""

import datetime
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from dualreport_smoke import BIN, SECRET, Process, Reflected

REGISTRY = "dualreport.registry.v1.RegistryService"
SCORING = "dualreport.scoring.v1.ScoringService"
VOLUNTEERING = "dualreport.volunteering.v1.VolunteeringService"
FEEDBACK = "dualreport.feedback.v1.FeedbackService"


@pytest.fixture(scope="module")
def suite():
    with tempfile.TemporaryDirectory() as data:
        registry = Process(
            "registry",
            data,
            DUALREPORT__REGISTRY__PII_ACTIVE_KEY="k1",
            DUALREPORT__REGISTRY__PII_KEYS__K1="c21va2Uta2V5LXNtb2tlLWtleS1zbW9rZS1rZXkhISE=",
            DUALREPORT__POLICY__UNIT_REPORT_WINDOW_START="01-01",
            DUALREPORT__POLICY__UNIT_REPORT_WINDOW_END="12-31",
            DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_START="01-01",
            DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_END="12-31",
        )
        url = lambda p: f"http://127.0.0.1:{p.port}"
        scoring = Process("scoring", data, DUALREPORT__REGISTRY__URL=url(registry))
        volunteering = Process(
            "volunteering",
            data,
            DUALREPORT__REGISTRY__URL=url(registry),
            DUALREPORT__SCORING__URL=url(scoring),
            DUALREPORT__EVIDENCE__STORE=f"file://{data}/evidence",
            DUALREPORT__RELAY__POLL_INTERVAL_MS="100",
        )
        feedback = Process(
            "feedback",
            data,
            DUALREPORT__REGISTRY__URL=url(registry),
            DUALREPORT__SCORING__URL=url(scoring),
            DUALREPORT__VOLUNTEERING__URL=url(volunteering),
            DUALREPORT__FEED__POLL_INTERVAL_MS="100",
        )
        config = Path(data) / "demo.toml"
        config.write_text(f'[auth]\ndev_hs256_secret = "{SECRET}"\n')
        processes = [registry, scoring, volunteering, feedback]
        try:
            yield processes, config
        finally:
            for process in reversed(processes):
                process.stop()


def seed(processes, config):
    registry, scoring, volunteering, feedback = processes
    url = lambda p: f"http://127.0.0.1:{p.port}"
    out = subprocess.run(
        [
            str(BIN / "demo"),
            "--config", str(config),
            "--registry-url", url(registry),
            "--volunteering-url", url(volunteering),
            "--scoring-url", url(scoring),
            "--feedback-url", url(feedback),
            "--members", "40",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_demo_city_is_populated_and_seeding_twice_adds_nothing(suite):
    processes, config = suite
    registry_process, scoring_process, volunteering_process, feedback_process = processes
    printed = seed(processes, config)
    assert "dualreport demo city is ready" in printed and "grpcurl" in printed

    registry = Reflected(registry_process.channel, REGISTRY)
    scoring = Reflected(scoring_process.channel, SCORING)
    city = registry_process.token("--role", "city_admin", "--org", "city")
    year = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).year
    districts = registry.call(
        "ListOrganizations",
        city,
        parent_id="city",
        type=registry.enum("dualreport.registry.v1.OrganizationType", "ORGANIZATION_TYPE_DISTRICT"),
    ).organizations
    assert sorted(d.name for d in districts) == ["二七区", "金水区"]

    def reported():
        stats = registry.call("GetReportStatistics", city, org_id="city", year=year)
        return sum(u.reported_members for u in stats.units), sum(u.unit_reported for u in stats.units)

    members, units_reported = reported()
    assert (members, units_reported) == (40, 8)

    def board():
        return scoring.call(
            "GetBoard",
            city,
            org_id="city",
            period=scoring.message("dualreport.common.v1.Period", year=year, half=1),
            subject_kind=scoring.enum("dualreport.scoring.v1.SubjectKind", "SUBJECT_KIND_MEMBER"),
            page_size=500,
        ).rows

    rows = board()
    if datetime.date.today().month > 6:
        # The first half-year has ended: settled, reviewed, published, on the board.
        assert rows and rows[0].rank == 1
        assert all(a.line.stars >= b.line.stars for a, b in zip(rows, rows[1:]))
    else:
        assert not rows, "nothing is published before the first half-year ends"

    # Volunteering: today's attendance confirmed on evidence and paid to scoring.
    volunteering = Reflected(volunteering_process.channel, VOLUNTEERING)
    feedback = Reflected(feedback_process.channel, FEEDBACK)
    cloud = registry_process.token("--role", "cloud")

    def feed():
        stream = feedback.stream("WatchEvents", cloud, backlog_only=True)
        return [item.event for item in stream]

    deadline = time.time() + 30
    while True:
        kinds = [e.kind for e in feed()]
        if kinds.count("attendance.confirmed") >= 10 and "objection.upheld" in kinds:
            break
        assert time.time() < deadline, f"the feed never caught up: {sorted(set(kinds))}"
        time.sleep(0.5)
    assert kinds.count("member_report.confirmed") == 40
    assert "notice.sent" in kinds
    confirmed = [e for e in feed() if e.kind == "attendance.confirmed"]
    member = confirmed[0].member_id
    as_member = registry_process.token("--role", "member", "--member", member)
    while True:
        attendance = volunteering.call("ListAttendance", as_member, member_id=member, year=year).attendance
        if attendance and all(a.entry_id for a in attendance):
            break  # every confirmation has its scoring entry
        assert time.time() < deadline, f"not paid to scoring: {attendance}"
        time.sleep(0.5)

    # Feedback: every paired unit got its notice with the summary table.
    units = {e.unit_org_id for e in confirmed}
    for unit in units:
        token = registry_process.token("--role", "unit_admin", "--org", unit)
        notices = feedback.call("ListNotices", token).notices
        assert len(notices) == 1, unit
        notice = feedback.call("GetNotice", token, notice_id=notices[0].id).notice
        assert notice.summary.rows, "the notice carries the summary table (附录F)"

    events = len(feed())
    seed(processes, config)
    assert reported() == (members, units_reported), "a second run adds nothing"
    assert len(board()) == len(rows)
    time.sleep(1)
    assert len(feed()) == events, "nor does it to the feed"

