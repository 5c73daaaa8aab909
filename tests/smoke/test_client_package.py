"""The Python client package, as a district system installs it: the wheel
`make python-client` builds from proto/, installed on its own (not the source
tree), imported by a separate interpreter and used against a real registry."""

import glob
import os
import subprocess
import sys
import tempfile

import pytest

from dualreport_smoke import Process

TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "target"))

CLIENT = """
import sys
import grpc
from dualreport.registry.v1 import registry_pb2 as registry, registry_pb2_grpc
from dualreport.common.v1 import common_pb2

port, token = sys.argv[1], sys.argv[2]
stub = registry_pb2_grpc.RegistryServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
auth = [("authorization", f"Bearer {token}")]
policy = stub.GetPolicy(registry.GetPolicyRequest(), metadata=auth, timeout=10).policy
print("preset", policy.preset, policy.relocation_days)
try:
    stub.GetOrganization(registry.GetOrganizationRequest(organization_id="nowhere"), metadata=auth, timeout=10)
except grpc.RpcError as e:
    print("error", e.code().name)
print("reason", common_pb2.ErrorReason.Name(common_pb2.ERROR_REASON_CITY_OWNED))
"""


@pytest.fixture(scope="module")
def installed():
    wheels = glob.glob(os.path.join(TARGET, "python", "dualreport_client-*.whl"))
    assert wheels, "make python-client builds the wheel before the smoke tests"
    with tempfile.TemporaryDirectory() as site:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--target", site, wheels[0]],
            check=True,
        )
        yield site


def test_the_wheel_imports_and_calls_a_running_registry(installed):
    with tempfile.TemporaryDirectory() as data:
        registry = Process(
            "registry",
            data,
            DUALREPORT__REGISTRY__PII_ACTIVE_KEY="k1",
            DUALREPORT__REGISTRY__PII_KEYS__K1="c21va2Uta2V5LXNtb2tlLWtleS1zbW9rZS1rZXkhISE=",
        )
        try:
            token = registry.token("--role", "city_admin", "--org", "city")
            # Only the installed wheel (and grpcio/protobuf) on the path: not the repository.
            env = dict(os.environ, PYTHONPATH=installed)
            out = subprocess.run(
                [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {installed!r})\n" + CLIENT,
                 str(registry.port), token],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                cwd=installed,
            ).stdout.split("\n")
        finally:
            registry.stop()
    assert "preset S4 30" in out, out
    assert "error NOT_FOUND" in out, out
    assert "reason ERROR_REASON_CITY_OWNED" in out, out
