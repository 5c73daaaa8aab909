"""Chart checks: Helm lint and render of the defaults and of every example
district (the real Helm library), every rendered object validated against the
Kubernetes schemas, the security posture every pod must have, the service-to-
service paths the NetworkPolicies allow, the rendered config accepted by the
service binaries themselves, checkov with no unexplained failure, and the
kustomize tree under k8s/ built from — and not drifting from — the chart."""

import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

import dualreport_chart as chart

ROOT = chart.ROOT
KUBE_VERSION = "1.34.0"
CASES = [None, *chart.DISTRICTS]
BIN = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"


def rendered(district):
    namespace = f"dualreport-{district}" if district else "dualreport"
    return chart.render(chart.values(district), namespace=namespace)


def of_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def pod_specs(objects):
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            yield obj, obj["spec"]["template"]["spec"]
        elif obj["kind"] == "Pod":
            yield obj, obj["spec"]


def test_there_are_two_example_districts():
    assert chart.DISTRICTS == ["erqi", "jinshui"]


@pytest.mark.parametrize("district", CASES)
def test_lint_is_clean(district):
    report = helm.lint(str(chart.CHART), chart.values(district), strict=True, kube_version=f"v{KUBE_VERSION}")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not report["errors"] and not problems, report


def test_the_schema_refuses_unknown_and_malformed_values():
    c = helm.Chart.load(str(chart.CHART))
    bad = [
        {"bogus": 1},
        {"services": {"registry": {"replicas": 2, "typo": True}}},
        {"policy": {"preset": "S9"}},
        {"policy": {"preset": "S4", "overrides": {"max_starz": 5}}},
        {"pii": {"existingSecret": "x", "activeKey": "K1"}},
        {"image": {"repository": "r", "digest": "latest"}},
    ]
    for values in bad:
        with pytest.raises(helm.HelmValuesError):
            c.validate_schema(values)
    c.close()


@pytest.mark.parametrize("district", CASES)
def test_every_object_is_valid_for_kubernetes(district):
    for obj in rendered(district):
        kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)


@pytest.mark.parametrize("district", CASES)
def test_no_secret_is_passed_as_an_environment_variable(district):
    for obj, spec in pod_specs(rendered(district)):
        for container in spec["containers"]:
            for env in container.get("env", []):
                assert "valueFrom" not in env, (obj["metadata"]["name"], env["name"])


@pytest.mark.parametrize("district", CASES)
def test_pods_run_restricted(district):
    specs = list(pod_specs(rendered(district)))
    assert specs
    for obj, spec in specs:
        name = obj["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert container["resources"]["limits"], name


@pytest.mark.parametrize("district", CASES)
def test_every_service_has_probes_a_migration_hook_a_helm_test_and_a_config_checksum(district):
    objects = rendered(district)
    deployments = of_kind(objects, "Deployment")
    assert {d["metadata"]["labels"]["app.kubernetes.io/name"] for d in deployments} == {"registry", "volunteering", "scoring", "feedback"}
    configs = {c["metadata"]["name"]: c["data"]["config.toml"] for c in of_kind(objects, "ConfigMap") if "config.toml" in c["data"]}
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            # Native gRPC probes, or `<service> probe` when TLS is on (kubelet cannot do TLS).
            assert "grpc" in container[probe] or container[probe]["exec"]["command"][1] == "probe", (name, probe)
        readiness = container["readinessProbe"]
        service = readiness["grpc"]["service"] if "grpc" in readiness else readiness["exec"]["command"][5]
        assert service.startswith("dualreport."), name
        checksum = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        assert checksum == hashlib.sha256(configs[name].encode()).hexdigest(), name
    hooks = [j for j in of_kind(objects, "Job") if chart.is_hook(j)]
    assert len(hooks) == 4
    for job in hooks:
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    tests = [p for p in of_kind(objects, "Pod") if p["metadata"]["annotations"]["helm.sh/hook"] == "test"]
    assert len(tests) == 4 and all(p["spec"]["containers"][0]["args"][0] == "probe" for p in tests)


def test_a_config_change_rolls_the_pods():
    before = of_kind(chart.render({}), "Deployment")
    after = of_kind(chart.render({"policy": {"preset": "S2"}}), "Deployment")
    checksum = lambda d: d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert [checksum(d) for d in before] != [checksum(d) for d in after]


def test_network_policies_allow_only_the_suite_paths():
    objects = rendered("jinshui")
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(objects, "NetworkPolicy")}
    registry = policies["dualreport-registry"]
    grpc_from = registry["ingress"][0]["from"]
    callers = [f["podSelector"]["matchLabels"].get("app.kubernetes.io/name") for f in grpc_from if "podSelector" in f]
    assert {"scoring", "volunteering", "feedback"} <= set(callers), grpc_from
    assert {"kubernetes.io/metadata.name": "api-gateway"} in [f.get("namespaceSelector", {}).get("matchLabels") for f in grpc_from]
    scoring = policies["dualreport-scoring"]
    callers = [f["podSelector"]["matchLabels"].get("app.kubernetes.io/name") for f in scoring["ingress"][0]["from"] if "podSelector" in f]
    assert sorted(c for c in callers if c) == ["feedback", "volunteering"], "volunteering pays points, feedback sends corrections"
    peer_ports = [rule["ports"][0]["port"] for rule in scoring["egress"] if "to" in rule]
    assert peer_ports == [50051], scoring["egress"]
    volunteering = policies["dualreport-volunteering"]
    assert sorted(rule["ports"][0]["port"] for rule in volunteering["egress"] if "to" in rule) == [50051, 50053]
    feedback = policies["dualreport-feedback"]
    assert sorted(rule["ports"][0]["port"] for rule in feedback["egress"] if "to" in rule) == [50051, 50052, 50053]
    assert not [rule for rule in registry["egress"] if "to" in rule], "the registry calls no peer"
    assert "dualreport-jobs" in policies


@pytest.mark.parametrize("district", chart.DISTRICTS)
def test_the_rendered_config_is_accepted_by_the_binaries(district):
    objects = rendered(district)
    expected_city = chart.values(district)["district"]["cityId"]
    with tempfile.TemporaryDirectory() as tmp:
        for config in of_kind(objects, "ConfigMap"):
            if "config.toml" not in config["data"]:
                continue
            service = config["metadata"]["labels"]["app.kubernetes.io/name"]
            path = Path(tmp) / f"{service}.toml"
            path.write_text(config["data"]["config.toml"])
            env = {k: v for k, v in os.environ.items() if not k.startswith("DUALREPORT")}
            out = subprocess.run(
                [str(BIN / service), "--config", str(path), "config"], env=env, capture_output=True, text=True
            )
            assert out.returncode == 0, out.stderr
            assert "jwks_file: Some(" in out.stdout
            assert 'url_file: Some(\n            "/etc/dualreport/database/url"' in out.stdout, out.stdout
            if service == "registry":
                assert f'city_id: "{expected_city}"' in out.stdout
                assert '"/etc/dualreport/pii"' in out.stdout
            else:
                assert "url: \"http://dualreport-registry:50051\"" in out.stdout or (
                    "url: \"https://dualreport-registry:50051\"" in out.stdout and "ca_file:" in out.stdout
                )


@pytest.mark.parametrize("district", chart.DISTRICTS)
def test_checkov_finds_nothing_unexplained(district, tmp_path):
    manifest = tmp_path / f"{district}.yaml"
    manifest.write_text(chart.dump(rendered(district)))
    checkov = os.environ.get("CHECKOV", "checkov")
    out = subprocess.run(
        [checkov, "--config-file", str(chart.CHART / ".checkov.yaml"), "-f", str(manifest), "-o", "json"],
        capture_output=True,
        text=True,
    )
    report = json.loads(out.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [
        (c["check_id"], c["resource"]) for c in report.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, failed
    assert report["summary"]["passed"] > 400


def test_the_k8s_tree_does_not_drift_from_the_chart():
    tree = chart.k8s_tree()
    on_disk = {str(p.relative_to(chart.K8S)): p.read_text() for p in chart.K8S.rglob("*.yaml")}
    stale = sorted(k for k in tree if on_disk.get(k) != tree[k])
    extra = sorted(set(on_disk) - set(tree))
    assert not stale and not extra, f"run `make k8s`: stale {stale}, extra {extra}"


def kustomize(path):
    out = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return sorted((o for o in yaml.safe_load_all(out.stdout) if o), key=chart.key)


@pytest.mark.parametrize("district", chart.DISTRICTS)
def test_each_overlay_builds_into_the_districts_chart_render(district):
    built = kustomize(chart.K8S / "overlays" / district)
    for obj in built:
        assert obj["metadata"].get("namespace", f"dualreport-{district}") == f"dualreport-{district}"
        kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        obj["metadata"].pop("namespace", None)
    expected = chart.plain(rendered(district))
    assert [chart.key(o) for o in built] == [chart.key(o) for o in expected]
    for got, want in zip(built, expected):
        assert got == want, chart.key(got)


def test_the_base_builds():
    assert len(kustomize(chart.K8S / "base")) == len(chart.plain(rendered(None)))


def test_tls_wires_certificates_from_secrets_and_probes_over_tls():
    objects = rendered("jinshui")
    for deployment in of_kind(objects, "Deployment"):
        name = deployment["metadata"]["labels"]["app.kubernetes.io/name"]
        spec = deployment["spec"]["template"]["spec"]
        secrets = [v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v]
        assert f"dualreport-{name}-tls" in secrets, secrets
        probe = spec["containers"][0]["readinessProbe"]["exec"]["command"]
        assert probe[:2] == [f"/usr/local/bin/{name}", "probe"] and "--cert-file" in probe, probe
    configs = {c["metadata"]["labels"]["app.kubernetes.io/name"]: c["data"]["config.toml"] for c in of_kind(objects, "ConfigMap") if "config.toml" in c["data"]}
    assert 'client_ca_file = "/etc/dualreport/tls/ca.crt"' in configs["registry"]
    assert 'url = "https://dualreport-registry:50051"' in configs["scoring"]
    assert "[registry.tls]" in configs["scoring"]
    # Without TLS (erqi), kubelet's native gRPC probes.
    for deployment in of_kind(rendered("erqi"), "Deployment"):
        assert "grpc" in deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]


def test_the_dashboard_queries_metrics_the_services_export():
    import re

    dashboard = json.loads((chart.CHART / "dashboards" / "dualreport.json").read_text())
    sources = [
        "crates/platform/src/metrics.rs",  # per service and method
        "services/volunteering/src/relay.rs",  # the outbox to scoring
        "services/feedback/src/feed.rs",  # journals, webhook, corrections
    ]
    metric = r"(?:grpc_server|volunteering|feedback)_[a-z_]+"
    exported = {name for source in sources for name in re.findall(rf'"({metric})"', (ROOT / source).read_text())}
    assert {"grpc_server_handled_total", "grpc_server_handling_seconds"} <= exported, exported
    series = exported | {f"{name}_{suffix}" for name in exported for suffix in ("bucket", "count", "sum")}
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert exprs
    for expr in exprs:
        for name in re.findall(metric, expr):
            assert name in series, f"{name} in {expr!r} is not exported"
    queried = " ".join(exprs)
    # What SREs watch beyond requests, errors and latency: the outbox and the webhook.
    for name in ("volunteering_payments_pending", "feedback_webhook_failures_total", "feedback_webhook_backlog"):
        assert name in queried, f"no panel shows {name}"
    rendered_dashboard = [c for c in of_kind(rendered("jinshui"), "ConfigMap") if "dualreport.json" in c["data"]]
    assert json.loads(rendered_dashboard[0]["data"]["dualreport.json"]) == dashboard


def test_the_image_builds_from_what_the_dockerfile_copies():
    """No Docker engine here: check statically that the build stage gets every
    workspace member (cargo resolves the whole workspace) past .dockerignore,
    and that the final stage carries each service binary the chart runs."""
    import fnmatch
    import re
    import tomllib

    members = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["members"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (?!--from)(\S+) ", dockerfile, re.M)
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()]

    def ignored(path):
        verdict = False
        for rule in rules:
            negate = rule.startswith("!")
            pattern = rule.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
                verdict = not negate
        return verdict

    for member in members:
        assert any(member == c or member.startswith(c.rstrip("/") + "/") for c in copied), f"{member} is not copied"
        assert not ignored(member + "/Cargo.toml"), f"{member} is excluded by .dockerignore"
    binaries = re.search(r"for bin in ([a-z ]+); do", dockerfile).group(1).split()
    values = yaml.safe_load((chart.CHART / "values.yaml").read_text())
    assert sorted(binaries) == sorted(values["services"]), binaries
