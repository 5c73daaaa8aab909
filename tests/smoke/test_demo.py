"""`make demo` against the real binaries: the seed fills registry and scoring
through their gRPC APIs, an independent client finds the city populated, and
a second run adds nothing."""

import datetime
import subprocess
import tempfile
from pathlib import Path

import pytest

from dualreport_smoke import BIN, SECRET, Process, Reflected

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
            DUALREPORT__POLICY__UNIT_REPORT_WINDOW_START="01-01",
            DUALREPORT__POLICY__UNIT_REPORT_WINDOW_END="12-31",
            DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_START="01-01",
            DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_END="12-31",
        )
        scoring = Process("scoring", data, DUALREPORT__REGISTRY__URL=f"http://127.0.0.1:{registry.port}")
        config = Path(data) / "demo.toml"
        config.write_text(f'[auth]\ndev_hs256_secret = "{SECRET}"\n')
        try:
            yield registry, scoring, config
        finally:
            scoring.stop()
            registry.stop()


def seed(registry, scoring, config):
    out = subprocess.run(
        [
            str(BIN / "demo"),
            "--config", str(config),
            "--registry-url", f"http://127.0.0.1:{registry.port}",
            "--scoring-url", f"http://127.0.0.1:{scoring.port}",
            "--members", "40",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_demo_city_is_populated_and_seeding_twice_adds_nothing(suite):
    registry_process, scoring_process, config = suite
    printed = seed(registry_process, scoring_process, config)
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

    members, units = reported()
    assert (members, units) == (40, 8)

    def board():
        return scoring.call(
            "GetBoard",
            city,
            org_id="city",
            period=scoring.message("dualreport.scoring.v1.Period", year=year, half=1),
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

    seed(registry_process, scoring_process, config)
    assert reported() == (members, units), "a second run adds nothing"
    assert len(board()) == len(rows)
