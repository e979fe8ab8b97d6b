"""Mutants of the reference repository's CI/CD workflow and Kubernetes manifests.

Each is a copy of ``reference_app/project`` with one edit to one file that breaks one
requirement: :func:`write_mutant` writes it to a directory that ``--project-root`` can point at.
An edit names the exact text it replaces, so a change of the reference file that moves that
text fails loudly instead of producing a mutant that breaks nothing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

REFERENCE_PROJECT = Path(__file__).resolve().parent / "project"
WORKFLOW = ".github/workflows/ci-cd.yml"


class MutantEditError(RuntimeError):
    """The text a mutant replaces is no longer in the reference file exactly once."""


@dataclass(frozen=True)
class FileMutant:
    name: str
    breaks: tuple[str, ...]
    description: str
    path: str  # relative to the repository root
    edits: tuple[tuple[str, str], ...]  # (old, new) text pairs


def _workflow(name: str, rid: str, description: str, *edits: str) -> FileMutant:
    pairs = tuple(zip(edits[::2], edits[1::2], strict=True))
    return FileMutant(name, (rid,), description, WORKFLOW, pairs)


def _k8s(name: str, rid: str, description: str, path: str, *edits: str) -> FileMutant:
    pairs = tuple(zip(edits[::2], edits[1::2], strict=True))
    return FileMutant(name, (rid,), description, f"k8s/{path}", pairs)


_PROBES = """          readinessProbe:
            httpGet:
              path: /health
              port: http
            periodSeconds: 10
            failureThreshold: 3
          livenessProbe:
            httpGet:
              path: /health
              port: http
            initialDelaySeconds: 15
            periodSeconds: 20
            failureThreshold: 3
"""
_MUTANTS = (
    _workflow(
        "ci-production-any-branch",
        "DEP-CI-PRODUCTION",
        "deploy-production has no branch condition: a push to develop deploys production",
        "    if: github.ref == 'refs/heads/main' && github.event_name != 'pull_request'\n",
        "",
    ),
    _workflow(
        "ci-production-prefix",
        "DEP-CI-PRODUCTION",
        "the production condition tests a prefix: main-hotfix deploys production too",
        "if: github.ref == 'refs/heads/main' &&",
        "if: startsWith(github.ref, 'refs/heads/main') &&",
    ),
    _workflow(
        "ci-pr-builds",
        "DEP-CI-TRIGGER-PR",
        "the build job runs on pull requests",
        "    needs: [backend-tests, frontend-tests, integration-tests, security-scan]\n"
        "    if: github.event_name != 'pull_request'\n",
        "    needs: [backend-tests, frontend-tests, integration-tests, security-scan]\n",
    ),
    _workflow(
        "ci-build-before-scan",
        "DEP-CI-ORDER",
        "the build job does not wait for the security scan",
        "needs: [backend-tests, frontend-tests, integration-tests, security-scan]",
        "needs: [backend-tests, frontend-tests, integration-tests]",
    ),
    _workflow(
        "ci-no-integration-tests",
        "DEP-CI-TESTS",
        "the integration tests step is gone",
        "      - name: Integration tests\n        run: pytest backend/tests/integration\n",
        "      - run: echo integration tests skipped\n",
    ),
    _workflow(
        "ci-coverage-not-kept",
        "DEP-CI-COVERAGE",
        "the backend coverage report is not uploaded",
        "          name: backend-coverage\n          path: coverage/backend.xml\n",
        "          name: backend-junit\n          path: reports/junit.xml\n",
    ),
    _workflow(
        "ci-trivy-never-fails",
        "DEP-CI-TRIVY",
        "the Trivy image scans report but never fail (exit-code 0)",
        "image-ref: ${{ env.IMAGE_PREFIX }}/backend:${{ env.VERSION }}\n"
        '          severity: HIGH,CRITICAL\n          exit-code: "1"',
        "image-ref: ${{ env.IMAGE_PREFIX }}/backend:${{ env.VERSION }}\n"
        '          severity: HIGH,CRITICAL\n          exit-code: "0"',
    ),
    _workflow(
        "ci-sast-exit-zero",
        "DEP-CI-SAST",
        "Bandit runs with --exit-zero",
        "bandit -r backend/app -ll",
        "bandit -r backend/app -ll --exit-zero",
    ),
    _workflow(
        "ci-js-audit-ignored",
        "DEP-CI-DEPENDENCY-SCAN",
        "npm audit's verdict is swallowed and Trivy scans configuration only",
        "        run: npm audit --audit-level=high\n",
        "        run: npm audit --audit-level=high || true\n",
        "          scan-type: fs\n",
        "          scan-type: config\n",
    ),
    _workflow(
        "ci-latest-tag",
        "DEP-CI-IMAGES",
        "the backend image is pushed as latest only",
        'docker push "$IMAGE_PREFIX/backend:$VERSION"',
        'docker tag "$IMAGE_PREFIX/backend:$VERSION" "$IMAGE_PREFIX/backend:latest"\n'
        '          docker push "$IMAGE_PREFIX/backend:latest"',
    ),
    _workflow(
        "ci-blind-smoke-test",
        "DEP-CI-STAGING",
        "the staging smoke test curls without --fail and passes on a 5xx",
        "          curl --fail --silent --show-error https://staging.example.com/health\n"
        "          curl --fail --silent --show-error https://staging.example.com/api/health\n",
        "          curl --silent https://staging.example.com/health\n",
    ),
    _workflow(
        "ci-no-migrations",
        "DEP-CI-MIGRATIONS",
        "production deploys without running the migrations",
        "      - name: Database migrations\n        run: kubectl --context production exec"
        " deployment/backend -- alembic upgrade head\n",
        "",
    ),
    _workflow(
        "ci-push-main-only",
        "DEP-CI-TRIGGER-PUSH",
        "pushes to develop start nothing",
        "  push:\n    branches: [main, develop]\n",
        "  push:\n    branches: [main]\n",
    ),
    _workflow(
        "ci-no-dispatch",
        "DEP-CI-TRIGGER-MANUAL",
        "the workflow cannot be started by hand",
        "  workflow_dispatch:\n",
        "",
    ),
    _workflow(
        "ci-invalid-key",
        "DEP-CI-WORKFLOW",
        "a job misspells runs-on, which GitHub rejects",
        "  security-scan:\n    name: Security scan\n    runs-on: ubuntu-latest\n",
        "  security-scan:\n    name: Security scan\n    runs_on: ubuntu-latest\n",
    ),
    _k8s(
        "k8s-no-probes", "DEP-K8S-PROBES", "the backend has no probes", "backend.yaml", _PROBES, ""
    ),
    _k8s(
        "k8s-unknown-field",
        "DEP-K8S-MANIFESTS",
        "a misspelled field the API server rejects",
        "frontend.yaml",
        "          image: ghcr.io/example/reasoner/frontend:1.0.0\n",
        "          image: ghcr.io/example/reasoner/frontend:1.0.0\n"
        "          imagePullPolcy: Always\n",
    ),
    _k8s(
        "k8s-service-wrong-port",
        "DEP-K8S-OBJECTS",
        "the frontend Service sends traffic to a port nobody listens on",
        "frontend.yaml",
        "      port: 80\n      targetPort: http\n",
        "      port: 80\n      targetPort: 8081\n",
    ),
    _k8s(
        "k8s-host-port",
        "DEP-K8S-SCALE",
        "the backend binds a host port: one pod per node",
        "backend.yaml",
        "              containerPort: 8000\n",
        "              containerPort: 8000\n              hostPort: 8000\n",
    ),
    _k8s(
        "k8s-no-limits",
        "DEP-K8S-RESOURCES",
        "the frontend declares no resources",
        "frontend.yaml",
        "          resources:\n            requests:\n              cpu: 50m\n"
        "              memory: 64Mi\n            limits:\n              cpu: 500m\n"
        "              memory: 128Mi\n",
        "",
    ),
    _k8s(
        "k8s-root",
        "DEP-K8S-NONROOT",
        "the backend container overrides the pod to run as uid 0",
        "backend.yaml",
        "            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n",
        "            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n"
        "            runAsNonRoot: false\n            runAsUser: 0\n",
    ),
)
CI_MUTANTS = {mutant.name: mutant for mutant in _MUTANTS}


def write_mutant(name: str, destination: Path) -> Path:
    """Copy the reference repository to ``destination`` with mutant ``name``'s edit applied."""
    mutant = CI_MUTANTS[name]
    shutil.copytree(REFERENCE_PROJECT, destination, dirs_exist_ok=True)
    apply_edits(mutant, destination)
    return destination


def apply_edits(mutant: FileMutant, root: Path) -> None:
    """Apply ``mutant``'s edits to the copy of the repository at ``root``."""
    name = mutant.name
    target = root / mutant.path
    text = target.read_text(encoding="utf-8")
    for old, new in mutant.edits:
        if text.count(old) != 1:
            raise MutantEditError(
                f"mutant {name}: the text it replaces occurs {text.count(old)} times "
                f"in {mutant.path}, not once: {old.splitlines()[0].strip()!r}"
            )
        text = text.replace(old, new)
    target.write_text(text, encoding="utf-8")
