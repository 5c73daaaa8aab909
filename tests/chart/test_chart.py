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
import tomllib
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

import dualreport_chart as chart

ROOT = chart.ROOT
KUBE_VERSION = "1.34.0"
CASES = [None, *chart.DISTRICTS]
# Every release the chart makes: the default, each example district, each city tier.
RELEASES = [*CASES, *chart.CITIES]
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


@pytest.mark.parametrize("district", RELEASES)
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
        # What Kubernetes would refuse, or what would break a district.
        {"default": {"resources": {"requests": {"memory": "64MB"}}}},
        {"default": {"resources": {"limits": {"cpu": "one"}}}},
        {"services": {"registry": {"resources": {"requests": {"ephemeral-storage": "1 Gi"}}}}},
        {"serviceMonitor": {"enabled": True}, "networkPolicy": {"enabled": True, "monitoringNamespaceSelectors": []}},
        {"default": {"extraEnv": [{"name": "DB", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}},
        {"default": {"replicas": -1}},
    ]
    for values in bad:
        with pytest.raises(helm.HelmValuesError):
            c.validate_schema(values)
    good = [
        {"default": {"priorityClassName": "district-critical", "podLabels": {"team": "dangjian"}, "podAnnotations": {"a": "b"}}},
        {"default": {"extraEnv": [{"name": "DUALREPORT__FEED__BATCH_SIZE", "value": "500"}]}},
        {"default": {"resources": {"requests": {"ephemeral-storage": "1Gi", "cpu": 0.5, "memory": "128Mi"}}}},
        {"default": {"podDisruptionBudget": {"enabled": True, "maxUnavailable": "25%"}}},
        {"services": {"feedback": {"replicas": 0}}},
        {"serviceMonitor": {"enabled": True}, "networkPolicy": {"enabled": True, "monitoringNamespaceSelectors": [{"kubernetes.io/metadata.name": "monitoring"}]}},
    ]
    for values in good:
        c.validate_schema(values)
    c.close()


@pytest.mark.parametrize(
    "values, says",
    [
        ({"default": {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 3}}}, "minReplicas 5 is above maxReplicas 3"),
        ({"default": {"replicas": 2, "podDisruptionBudget": {"enabled": True, "minAvailable": 2}}}, "would block every node drain"),
        ({"services": {"scoring": {"replicas": 1, "podDisruptionBudget": {"minAvailable": "100%"}}}}, "would block every node drain"),
        ({"default": {"podDisruptionBudget": {"enabled": True, "maxUnavailable": 0}}}, "maxUnavailable above 0"),
    ],
)
def test_the_chart_refuses_what_one_value_alone_cannot_show(values, says):
    with pytest.raises(helm.HelmError) as refused:
        chart.render(values)
    assert says in str(refused.value), refused.value


def test_operators_values_reach_the_pods():
    objects = chart.render(
        {
            "default": {"priorityClassName": "district-critical", "podLabels": {"team": "dangjian"}, "extraEnv": [{"name": "TZ", "value": "Asia/Shanghai"}]},
            "services": {"feedback": {"replicas": 0}},
        }
    )
    for deployment in of_kind(objects, "Deployment"):
        pod = deployment["spec"]["template"]
        assert pod["spec"]["priorityClassName"] == "district-critical"
        assert pod["metadata"]["labels"]["team"] == "dangjian"
        assert {"name": "TZ", "value": "Asia/Shanghai"} in pod["spec"]["containers"][0]["env"]
        # Spread by default: other nodes preferred, zones balanced.
        anti = pod["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
        assert anti["podAffinityTerm"]["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] == deployment["metadata"]["labels"]["app.kubernetes.io/name"]
        assert pod["spec"]["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    budgets = {p["metadata"]["name"] for p in of_kind(objects, "PodDisruptionBudget")}
    assert "dualreport-feedback" not in budgets, "a parked service has no budget to block drains"
    assert {d["metadata"]["name"]: d["spec"]["replicas"] for d in of_kind(objects, "Deployment")}["dualreport-feedback"] == 0


def test_each_district_is_told_apart_in_traces_metrics_and_dashboards():
    one = chart.render(chart.values("jinshui"), namespace="dualreport-jinshui")
    other = chart.render(chart.values("erqi"), namespace="dualreport-erqi")
    for deployment in of_kind(one, "Deployment"):
        env = {e["name"]: e["value"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        attrs = dict(pair.split("=", 1) for pair in env["OTEL_RESOURCE_ATTRIBUTES"].split(","))
        assert attrs["service.namespace"] == "dualreport"
        assert attrs["k8s.namespace.name"] == "dualreport-jinshui"
        assert attrs["deployment.environment"] == "production"
        assert attrs["dualreport.district"] == "jinshui"
    monitor = of_kind(one, "ServiceMonitor")[0]
    relabeled = {r["targetLabel"]: r["replacement"] for r in monitor["spec"]["endpoints"][0]["relabelings"]}
    assert relabeled["district"] == "jinshui"
    dashboards = [
        json.loads(next(c for c in of_kind(objects, "ConfigMap") if "dualreport.json" in c["data"])["data"]["dualreport.json"])
        for objects in (one, chart.render({"grafanaDashboard": {"enabled": True}, "district": {"cityName": "二七区"}}, namespace="dualreport-erqi"))
    ]
    assert dashboards[0]["uid"] != dashboards[1]["uid"] and all(len(d["uid"]) <= 40 for d in dashboards)
    assert "郑州市金水区" in dashboards[0]["title"]
    namespace_var = next(v for v in dashboards[0]["templating"]["list"] if v["name"] == "namespace")
    assert namespace_var["current"]["value"] == "dualreport-jinshui"
    for panel in dashboards[0]["panels"]:
        for target in panel["targets"]:
            assert 'namespace="$namespace"' in target["expr"], target["expr"]
    rules = of_kind(one, "PrometheusRule")[0]["spec"]["groups"][0]["rules"]
    alerts = {r["alert"] for r in rules}
    assert alerts == {
        "DualreportErrorRatioHigh",
        "DualreportLatencyP99High",
        "DualreportOutboxBacklog",
        "DualreportOutboxStale",
        "DualreportWebhookFailing",
        "DualreportJournalIngestLag",
    }
    readme = (chart.CHART / "README.md").read_text().lower()
    for rule in rules:
        assert 'namespace="dualreport-jinshui"' in rule["expr"], rule["alert"]
        anchor = rule["annotations"]["runbook_url"].split("#")[1]
        assert f"### {rule['alert'].lower()}" in readme, f"no runbook for {rule['alert']}"
        assert anchor == rule["alert"].lower()
    assert not of_kind(other, "PrometheusRule"), "alerts are opt-in"


# Prometheus-Operator kinds have no schema in kubernetes-validate: checked by shape.
OPERATOR_KINDS = {"ServiceMonitor": ["selector", "endpoints"], "PrometheusRule": ["groups"]}


def validate(obj):
    if obj["apiVersion"].startswith("monitoring.coreos.com/"):
        assert obj["apiVersion"] == "monitoring.coreos.com/v1", obj["apiVersion"]
        assert sorted(obj["spec"]) == sorted(OPERATOR_KINDS[obj["kind"]]), obj["kind"]
        return
    kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)


@pytest.mark.parametrize("district", RELEASES)
def test_every_object_is_valid_for_kubernetes(district):
    for obj in rendered(district):
        validate(obj)


def hook_phases(obj):
    annotations = obj["metadata"].get("annotations") or {}
    if "helm.sh/hook" not in annotations:
        return set()
    return {p.strip() for p in annotations["helm.sh/hook"].split(",")}


def weight(obj):
    return int((obj["metadata"].get("annotations") or {}).get("helm.sh/hook-weight", "0"))


def references(spec):
    """(kind, name) of every object a pod spec needs before it can start."""
    yield "ServiceAccount", spec.get("serviceAccountName", "default")
    for volume in spec.get("volumes", []):
        if "configMap" in volume:
            yield "ConfigMap", volume["configMap"]["name"]
        if "secret" in volume:
            yield "Secret", volume["secret"]["secretName"]
        if "persistentVolumeClaim" in volume:
            yield "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]
    for container in spec.get("containers", []) + spec.get("initContainers", []):
        for source in container.get("envFrom", []):
            for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                if key in source:
                    yield kind, source[key]["name"]


@pytest.mark.parametrize("district", RELEASES)
def test_every_hook_finds_what_it_refers_to_at_its_phase(district):
    """A pre-install hook runs before any of the release's own objects exist
    (a first install would wait forever for them): what it refers to is either
    outside the release or a hook of the same phase with a lower weight."""
    objects = rendered(district)
    by_key = {chart.key(o): o for o in objects}
    vals = chart.values(district) or {}
    # What exists outside the release: the Secrets the values name (and the TLS
    # Secrets cert-manager writes); anything else must be rendered.
    external = {
        ("Secret", (vals.get(section) or {}).get("existingSecret", default))
        for section, default in (("database", "dualreport-database"), ("auth", "dualreport-auth"), ("pii", "dualreport-pii"))
    }
    checked = 0
    for obj, spec in pod_specs(objects):
        phases = hook_phases(obj) & {"pre-install", "pre-upgrade", "pre-rollback"}
        for phase in phases:
            for ref in references(spec):
                target = by_key.get(ref)
                if target is None:
                    outside = ref in external or (ref[0] == "Secret" and ref[1].endswith("-tls"))
                    assert outside, f"{obj['metadata']['name']} ({phase}) needs {ref}, which neither the release renders nor the values name"
                    continue
                assert phase in hook_phases(target), f"{obj['metadata']['name']} ({phase}) needs {ref}, a release object that does not exist yet at {phase}"
                assert weight(target) < weight(obj), f"{ref} is not created before {obj['metadata']['name']}"
                checked += 1
    migrations = [j for j in of_kind(objects, "Job") if chart.is_hook(j)]
    assert migrations and checked >= len(migrations), "every migration Job has its own hook ServiceAccount"


@pytest.mark.parametrize("district", RELEASES)
def test_each_service_has_its_own_service_account_without_a_token(district):
    objects = rendered(district)
    accounts = {a["metadata"]["name"]: a for a in of_kind(objects, "ServiceAccount")}
    for deployment in of_kind(objects, "Deployment"):
        service = deployment["metadata"]["labels"]["app.kubernetes.io/name"]
        spec = deployment["spec"]["template"]["spec"]
        assert spec["serviceAccountName"] == f"dualreport-{service}", service
        assert accounts[spec["serviceAccountName"]]["automountServiceAccountToken"] is False
    assert all(a["automountServiceAccountToken"] is False for a in accounts.values())


@pytest.mark.parametrize("district", RELEASES)
def test_no_secret_is_passed_as_an_environment_variable(district):
    for obj, spec in pod_specs(rendered(district)):
        for container in spec["containers"]:
            for env in container.get("env", []):
                assert "valueFrom" not in env, (obj["metadata"]["name"], env["name"])


@pytest.mark.parametrize("district", RELEASES)
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
    # The portal is an HTTP front with no database: its own test below.
    deployments = [d for d in of_kind(objects, "Deployment") if d["metadata"]["labels"]["app.kubernetes.io/name"] != "portal"]
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


def test_the_portal_is_an_http_front_of_the_district():
    objects = rendered("jinshui")
    portal = [d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "dualreport-portal"]
    assert portal, "the example district runs the portal"
    container = portal[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/usr/local/bin/portal"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz", probe
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/etc/dualreport/public-token", "/etc/dualreport/oidc", "/etc/dualreport/tls"} <= mounts
    assert not [m for m in mounts if "database" in m], "the portal keeps no database"
    config = [c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"] == "dualreport-portal"][0]
    effective = tomllib.loads(config["data"]["config.toml"])
    assert effective["oidc"]["client_id"] == "dualreport-portal-jinshui"
    assert effective["oidc"]["client_secret_file"] == "/etc/dualreport/oidc/client-secret"
    assert effective["portal"]["public_url"] == "https://dangjian.jinshui.zz.gov.cn"
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(objects, "NetworkPolicy")}
    sources = policies["dualreport-portal"]["ingress"][0]["from"]
    assert {"kubernetes.io/metadata.name": "ingress-nginx"} in [f.get("namespaceSelector", {}).get("matchLabels") for f in sources]
    for service in ("registry", "volunteering", "scoring", "feedback"):
        callers = [f["podSelector"]["matchLabels"].get("app.kubernetes.io/name") for f in policies[f"dualreport-{service}"]["ingress"][0]["from"] if "podSelector" in f]
        assert "portal" in callers, f"{service} lets the portal in"
    assert not [d for d in of_kind(rendered("erqi"), "Deployment") if "portal" in d["metadata"]["name"]], "off unless enabled"
    with pytest.raises(Exception, match="publicUrl"):
        chart.render({"portal": {"enabled": True}})


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
    assert sorted(c for c in callers if c) == ["feedback", "portal", "volunteering"], "volunteering pays points, feedback sends corrections, the portal reads the board"
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
            effective = tomllib.loads(out.stdout)
            assert effective["auth"]["jwks_file"] == "/etc/dualreport/auth/jwks.json"
            if service == "portal":
                assert effective["portal"]["public_token_file"] == "/etc/dualreport/public-token/token"
                assert effective["portal"]["dev_login"] is False and effective["portal"]["secure_cookies"] is True
                assert set(effective["portal"]["metrics_urls"]) == {"registry", "volunteering", "scoring", "feedback"}
                assert effective["scoring"]["url"].endswith("dualreport-scoring:50053")
                continue
            assert effective["database"]["url_file"] == "/etc/dualreport/database/url"
            assert effective["database"]["url"] == "[redacted]"
            assert effective["policy"]["preset"] == chart.values(district)["policy"]["preset"]
            assert len(effective["policy"]) > 20, "the policy is printed resolved"
            if service == "volunteering":
                prefix = chart.values(district)["district"]["numberPrefix"]
                assert effective["certificates"]["number_prefix"] == f"{prefix}-FW", "certificate numbers carry the district"
            if service == "registry":
                assert effective["registry"]["city_id"] == expected_city
                assert effective["registry"]["pii_keys_dir"] == "/etc/dualreport/pii"
            else:
                assert effective["registry"]["url"] in ("http://dualreport-registry:50051", "https://dualreport-registry:50051")
                assert effective["registry"]["url"].startswith("http:") or "ca_file" in effective["registry"]["tls"]


def run_config(service, text, tmp_path):
    path = tmp_path / f"{service}.toml"
    path.write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALREPORT")}
    return subprocess.run([str(BIN / service), "--config", str(path), "config"], env=env, capture_output=True, text=True), path


@pytest.mark.parametrize("service", ["registry", "volunteering", "scoring", "feedback"])
def test_each_binary_refuses_an_unknown_key_naming_it_and_the_file(service, tmp_path):
    config = next(
        c["data"]["config.toml"]
        for c in of_kind(rendered("erqi"), "ConfigMap")
        if c["metadata"]["labels"].get("app.kubernetes.io/name") == service and "config.toml" in c["data"]
    )
    ok, _ = run_config(service, config, tmp_path)
    assert ok.returncode == 0, ok.stderr
    typo = config.replace("[server]\n", "[server]\nprot = 6000\n", 1)
    out, path = run_config(service, typo, tmp_path)
    assert out.returncode != 0, "a typo must not start the service on a default"
    assert f"`server.prot` (file {path})" in out.stderr, out.stderr


def test_a_config_of_any_depth_renders_as_toml_the_binary_reads(tmp_path):
    deep = {
        "directory": {"cache_ttl_secs": 90},
        # Three levels and a list of tables: Go's map[...] syntax before.
        "policy": {"max_stars": 8},
    }
    objects = chart.render({"services": {"scoring": {"config": deep}}})
    text = next(c["data"]["config.toml"] for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"] == "dualreport-scoring")
    parsed = tomllib.loads(text)
    assert parsed["directory"]["cache_ttl_secs"] == 90 and parsed["policy"]["max_stars"] == 8
    out, _ = run_config("scoring", text, tmp_path)
    assert out.returncode == 0, out.stderr
    assert tomllib.loads(out.stdout)["policy"]["max_stars"] == 8
    # Any shape the writer meets is valid TOML that means the same values.
    shapes = {"a": {"b": {"c": 1, "d": {"e": "x\"y"}}}, "list": [{"y": 1}, {"y": 2, "z": {"q": "w"}}], "mixed": [1, [2, 3]], "k.dot": True}
    objects = chart.render({"services": {"scoring": {"config": {"extra": shapes}}}})
    text = next(c["data"]["config.toml"] for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"] == "dualreport-scoring")
    assert tomllib.loads(text)["extra"] == shapes
    # ... and the binary refuses it by name, since scoring has no [extra].
    out, _ = run_config("scoring", text, tmp_path)
    assert out.returncode != 0 and "`extra`" in out.stderr, out.stderr


@pytest.mark.parametrize("district", [*chart.DISTRICTS, *chart.CITIES])
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
    # Every object was checked: a district's five Deployments and Jobs, or the city's one of each.
    assert report["summary"]["passed"] > (400 if district in chart.DISTRICTS else 200)


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
        validate(obj)
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
        if name == "portal":
            continue  # HTTP probes; its certificate is for calling the services
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
    # The alerts, too, query only what is exported.
    alerts = of_kind(rendered("jinshui"), "PrometheusRule")[0]["spec"]["groups"][0]["rules"]
    exprs += [rule["expr"] for rule in alerts]
    for expr in exprs:
        for name in re.findall(metric, expr):
            assert name in series, f"{name} in {expr!r} is not exported"
    queried = " ".join(exprs)
    # What SREs watch beyond requests, errors and latency: the outbox and the webhook.
    for name in ("volunteering_payments_pending", "feedback_webhook_failures_total", "feedback_webhook_backlog"):
        assert name in queried, f"no panel shows {name}"
    rendered_dashboard = [c for c in of_kind(rendered("jinshui"), "ConfigMap") if "dualreport.json" in c["data"]]
    shown = json.loads(rendered_dashboard[0]["data"]["dualreport.json"])
    assert shown["panels"] == dashboard["panels"], "the release's dashboard is the file's, with its own uid and title"


def test_the_image_builds_from_what_the_dockerfile_copies():
    """No Docker engine here: check statically that the build stage gets every
    workspace member (cargo resolves the whole workspace) past .dockerignore,
    and that the final stage carries each service binary the chart runs (and
    the admin CLI, `dualreport`, for a `kubectl exec` or a Job)."""
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
    for base in re.findall(r"^FROM (\S+)", dockerfile, re.M):
        assert re.search(r"@sha256:[0-9a-f]{64}$", base), f"base image {base} is not pinned by digest"
    binaries = re.search(r"for bin in ([a-z ]+); do", dockerfile).group(1).split()
    values = yaml.safe_load((chart.CHART / "values.yaml").read_text())
    assert sorted(binaries) == sorted([*values["services"], "portal", "dualreport"]), binaries


def test_there_is_an_example_city():
    assert chart.CITIES == ["zhengzhou-city"]


def test_the_city_profile_renders_the_city_tier_alone():
    objects = rendered("zhengzhou-city")
    deployments = of_kind(objects, "Deployment")
    assert [d["metadata"]["labels"]["app.kubernetes.io/name"] for d in deployments] == ["city"]
    assert [j["metadata"]["name"] for j in of_kind(objects, "Job") if chart.is_hook(j)] == ["dualreport-city-migrate"]
    container = deployments[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/usr/local/bin/city"]
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/etc/dualreport/service-token", "/etc/dualreport/database"}
    # Its alerts are the city's (and the generic ones), not a district's.
    alerts = [r["alert"] for rule in of_kind(objects, "PrometheusRule") for g in rule["spec"]["groups"] for r in g["rules"]]
    assert {"DualreportCityIngestLag", "DualreportCityDistrictDown", "DualreportCityPolicyDrift"} <= set(alerts)
    assert "DualreportOutboxBacklog" not in alerts
    readme = (chart.CHART / "README.md").read_text()
    for alert in alerts:
        assert f"### {alert}" in readme, alert
    # Egress to each district namespace's four gRPC ports, nothing else beyond the listed ports.
    policy = next(p["spec"] for p in of_kind(objects, "NetworkPolicy") if p["metadata"]["name"] == "dualreport-city")
    to_districts = [r for r in policy["egress"] if any("namespaceSelector" in t for t in r.get("to", []))]
    assert [r["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for r in to_districts] == [
        "dualreport-jinshui",
        "dualreport-erqi",
    ]
    assert all(sorted(p["port"] for p in r["ports"]) == [50051, 50052, 50053, 50054] for r in to_districts)
    # A district release renders no city tier; a connected one's registry syncs from it,
    # with the service token, the same city root and egress to the city's port.
    jinshui = rendered("jinshui")
    assert "city" not in {d["metadata"]["labels"]["app.kubernetes.io/name"] for d in of_kind(jinshui, "Deployment")}
    registry = tomllib.loads(next(c["data"]["config.toml"] for c in of_kind(jinshui, "ConfigMap") if c["metadata"]["name"] == "dualreport-registry"))
    assert registry["city"]["url"] == "https://dualreport-city.dualreport-city:50060" and "ca_file" in registry["city"]["tls"]
    assert registry["auth"]["service_token_file"] == "/etc/dualreport/service-token/token"
    assert registry["registry"]["city_id"] == chart.values("zhengzhou-city")["district"]["cityId"]
    egress = next(p["spec"] for p in of_kind(jinshui, "NetworkPolicy") if p["metadata"]["name"] == "dualreport-registry")["egress"]
    assert {"port": 50060, "protocol": "TCP"} in [port for rule in egress for port in rule.get("ports", [])]


def test_the_city_config_is_accepted_by_the_city_binary(tmp_path):
    objects = rendered("zhengzhou-city")
    config = next(c["data"]["config.toml"] for c in of_kind(objects, "ConfigMap") if "config.toml" in c["data"])
    out, _ = run_config("city", config, tmp_path)
    assert out.returncode == 0, out.stderr
    effective = tomllib.loads(out.stdout)
    assert effective["city"]["city_id"] == "zz-city"
    assert effective["auth"]["service_token_file"] == "/etc/dualreport/service-token/token"
    districts = effective["districts"]
    assert sorted(districts) == ["erqi", "jinshui"]
    assert districts["jinshui"]["scoring"]["url"] == "https://dualreport-scoring.dualreport-jinshui:50053"
    assert districts["erqi"]["feedback"]["tls"]["ca_file"] == "/etc/dualreport/tls/ca.crt"
    typo = config.replace("[city]\n", "[city]\npoll_intervl_ms = 5\n", 1)
    out, path = run_config("city", typo, tmp_path)
    assert out.returncode != 0 and "`city.poll_intervl_ms`" in out.stderr, out.stderr
