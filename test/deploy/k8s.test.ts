// deploy/k8s parses, and each role gets a Deployment and Service with the right image, args, ports, probes,
// resources and configuration; producer and consumer scale with an HPA.

import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { VARIABLES } from "../../src/config/variables.ts";
import { missingServices } from "../../src/roles/compose.ts";
import { parseYamlDocuments, REPO, ROLES } from "./roles.ts";

const DIR = join(REPO, "deploy", "k8s");

type Labels = Record<string, string>;

interface Container {
  image: string;
  args?: string[];
  ports?: { name: string; containerPort: number; protocol: string }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { tcpSocket?: unknown; httpGet?: unknown };
  resources?: Record<"requests" | "limits", { cpu?: string; memory?: string } | undefined>;
  securityContext?: Record<string, unknown>;
  envFrom?: unknown[];
}

interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Labels };
  template: {
    metadata: { labels: Labels; annotations?: Labels };
    spec: {
      containers: Container[];
      securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
      terminationGracePeriodSeconds?: number;
    };
  };
}

interface ServiceSpec {
  selector: Labels;
  ports: { name: string; port: number; targetPort: string | number; protocol: string }[];
}

interface HpaSpec {
  scaleTargetRef: { apiVersion: string; kind: string; name: string };
  minReplicas: number;
  maxReplicas: number;
  metrics: unknown[];
}

interface Resource<Spec = unknown> {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
  spec: Spec;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

const resources: Resource[] = [];
let files: string[] = [];

beforeAll(async () => {
  files = readdirSync(DIR).filter((f) => f.endsWith(".yaml"));
  for (const f of files.filter((f) => f !== "kustomization.yaml"))
    resources.push(...(parseYamlDocuments(await Bun.file(join(DIR, f)).text()) as Resource[]));
});

const find = <Spec>(kind: string, name: string): Resource<Spec> => {
  const r = resources.find((x) => x.kind === kind && x.metadata.name === name);
  if (!r) throw new Error(`no ${kind} ${name}`);
  return r as Resource<Spec>;
};

const deploymentOf = (role: string) => find<DeploymentSpec>("Deployment", `logproc-${role}`);
const serviceOf = (role: string) => find<ServiceSpec>("Service", `logproc-${role}`);
const hpaOf = (role: string) => find<HpaSpec>("HorizontalPodAutoscaler", `logproc-${role}`);

const containerOf = (role: string): Container => {
  const containers = deploymentOf(role).spec.template.spec.containers;
  expect(containers).toHaveLength(1);
  const [c] = containers;
  if (!c) throw new Error(`no container in logproc-${role}`);
  return c;
};

const configMap = () => {
  const cms = resources.filter((r) => r.kind === "ConfigMap");
  expect(cms).toHaveLength(1);
  return cms[0] as Resource;
};

const secret = () => {
  const s = resources.filter((r) => r.kind === "Secret");
  expect(s).toHaveLength(1);
  return s[0] as Resource;
};

describe("Kubernetes manifests", () => {
  test("every file parses into objects with apiVersion, kind and name", () => {
    expect(resources.length).toBeGreaterThanOrEqual(10);
    for (const r of resources) {
      expect(r.apiVersion).toBeTruthy();
      expect(r.kind).toBeTruthy();
      expect(r.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  test("kustomization.yaml lists every manifest", async () => {
    const k = Bun.YAML.parse(await Bun.file(join(DIR, "kustomization.yaml")).text()) as {
      resources: string[];
    };
    expect([...k.resources].sort()).toEqual(files.filter((f) => f !== "kustomization.yaml").sort());
  });

  test("the ConfigMap and the Secret hold only logproc variables, secrets only in the Secret", () => {
    const known = new Set(VARIABLES.map((v) => v.name));
    const cm = Object.keys(configMap().data ?? {});
    const sec = Object.keys(secret().stringData ?? secret().data ?? {});
    expect([...cm, ...sec].filter((k) => !known.has(k))).toEqual([]);
    const sensitive = /PASSWORD|API_KEYS|USERNAME/;
    expect(cm.filter((k) => sensitive.test(k))).toEqual([]);
    expect(sec.filter((k) => !sensitive.test(k))).toEqual([]);
    expect(sec).toContain("POSTGRES_PASSWORD");
  });

  for (const r of ROLES) {
    describe(r.role, () => {
      const deployment = () => deploymentOf(r.role);
      const container = () => containerOf(r.role);

      test("runs the one image with --role", () => {
        const images = new Set(ROLES.map((x) => containerOf(x.role).image));
        expect(images.size).toBe(1);
        expect(container().image).toMatch(/^logproc:/);
        expect(container().args).toEqual(["--role", r.role]);
      });

      test("selects its own pods", () => {
        const d = deployment();
        expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
        const svc = serviceOf(r.role);
        expect(d.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
        const others = ROLES.filter((x) => x.role !== r.role).map((x) => deploymentOf(x.role));
        for (const o of others) expect(o.spec.template.metadata.labels).not.toMatchObject(svc.spec.selector);
      });

      test("exposes its port through the Service", () => {
        expect(container().ports).toContainEqual({
          name: "http",
          containerPort: r.defaultPort,
          protocol: "TCP",
        });
        const svc = serviceOf(r.role);
        expect(svc.spec.ports).toContainEqual({
          name: "http",
          port: r.defaultPort,
          targetPort: "http",
          protocol: "TCP",
        });
      });

      test("is ready when its health path says so, and alive while it serves HTTP", () => {
        expect(container().readinessProbe?.httpGet).toEqual({ path: r.health, port: "http" });
        const liveness = container().livenessProbe;
        expect(liveness?.tcpSocket ?? liveness?.httpGet).toBeTruthy();
      });

      test("asks for and is limited in CPU and memory", () => {
        const res = container().resources;
        for (const kind of ["requests", "limits"] as const) {
          expect(res?.[kind]?.cpu).toBeTruthy();
          expect(res?.[kind]?.memory).toBeTruthy();
        }
      });

      test("runs as the image's non-root user with a read-only root", () => {
        const pod = deployment().spec.template.spec;
        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        expect(pod.securityContext?.runAsUser).toBe(10001);
        expect(container().securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
        });
      });

      test("takes its configuration from the ConfigMap and the Secret, enough for the split role", () => {
        expect(container().envFrom).toEqual([
          { configMapRef: { name: configMap().metadata.name } },
          { secretRef: { name: secret().metadata.name } },
        ]);
        const env = { ...configMap().data, ...(secret().stringData ?? {}) };
        const config = loadConfig(env, r.role);
        expect(missingServices(config)).toBeUndefined();
        expect(config.ports[r.role]).toBe(r.defaultPort);
        // Reachable from the Service (HOST explicit), and never open to every pod of the cluster.
        expect(configMap().data?.HOST).toBe("0.0.0.0");
        expect(config.host).toBe("0.0.0.0");
        expect(config.openRoles).toEqual([]);
      });

      test("tells Prometheus where its metrics are", () => {
        expect(deployment().spec.template.metadata.annotations).toEqual({
          "prometheus.io/scrape": "true",
          "prometheus.io/port": String(r.defaultPort),
          "prometheus.io/path": r.metrics[0],
        });
      });

      test("stops within the grace period main.ts allows", () => {
        expect(deployment().spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(30);
      });
    });
  }

  test("producer and consumer scale with an HPA on their Deployment, which leaves the replica count to it", () => {
    const partitions = Number(configMap().data?.KAFKA_PARTITIONS);
    for (const role of ["producer", "consumer"]) {
      const hpa = hpaOf(role);
      expect(hpa.apiVersion).toBe("autoscaling/v2");
      expect(hpa.spec.scaleTargetRef).toEqual({
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: `logproc-${role}`,
      });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(1);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      expect(hpa.spec.metrics.length).toBeGreaterThan(0);
      expect(deploymentOf(role).spec.replicas).toBeUndefined();
    }
    expect(hpaOf("consumer").spec.maxReplicas).toBeLessThanOrEqual(partitions);
    expect(resources.filter((r) => r.kind === "HorizontalPodAutoscaler")).toHaveLength(2);
  });
});
