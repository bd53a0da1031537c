// The command lines and files of a local test control plane, as pure functions of its layout:
// which flags etcd and kube-apiserver get, and the kubeconfig and token file they are reached with.
// control-plane.ts does the I/O (ports, processes, files); this module only decides their content.
import { stringify } from "yaml";

/** Documentation range (RFC 5737): never routed, and no kube-proxy here programs Service IPs anyway. */
export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = "203.0.113.0/24";

/** Issuer written into service-account tokens minted through the TokenRequest API. */
export const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";

export interface EtcdLayout {
  dataDir: string;
  /** etcd stays on loopback: only the API server beside it talks to it. */
  clientPort: number;
  peerPort: number;
}

export function etcdArgs(layout: EtcdLayout): string[] {
  const client = `http://127.0.0.1:${layout.clientPort}`;
  const peer = `http://127.0.0.1:${layout.peerPort}`;
  return [
    "--name=kubelvs-test",
    `--data-dir=${layout.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=kubelvs-test=${peer}`,
    "--initial-cluster-state=new",
    // A throwaway store: durability costs seconds per test run and buys nothing.
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
}

export interface ApiServerLayout {
  etcdClientPort: number;
  /** Address the secure port listens on (loopback, or a lab namespace's address). */
  bindAddress: string;
  /** Address written into the `kubernetes` Service's endpoints and used by in-cluster clients. */
  advertiseAddress: string;
  securePort: number;
  serviceClusterIpRange: string;
  certDir: string;
  caCertFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  tokenAuthFile: string;
  serviceAccountPublicKeyFile: string;
  serviceAccountSigningKeyFile: string;
  extraArgs?: readonly string[];
}

export function apiServerArgs(layout: ApiServerLayout): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${layout.etcdClientPort}`,
    `--bind-address=${layout.bindAddress}`,
    `--advertise-address=${layout.advertiseAddress}`,
    `--secure-port=${layout.securePort}`,
    `--cert-dir=${layout.certDir}`,
    `--tls-cert-file=${layout.servingCertFile}`,
    `--tls-private-key-file=${layout.servingKeyFile}`,
    // Client certificates signed by the same test CA authenticate too (e.g. system:node:<name>).
    `--client-ca-file=${layout.caCertFile}`,
    `--token-auth-file=${layout.tokenAuthFile}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${layout.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${layout.serviceAccountSigningKeyFile}`,
    "--authorization-mode=Node,RBAC",
    // No kube-controller-manager runs, so nothing creates the `default` ServiceAccount a Pod
    // would be admitted with; the other default admission plugins work without controllers.
    "--disable-admission-plugins=ServiceAccount",
    "--allow-privileged=true",
    `--service-cluster-ip-range=${layout.serviceClusterIpRange}`,
    // A single API server with no real endpoints: don't maintain the `kubernetes` Endpoints object.
    "--endpoint-reconciler-type=none",
    "--profiling=false",
    ...(layout.extraArgs ?? []),
  ];
}

/** One line of --token-auth-file: token,user,uid,"group1,group2". */
export function tokenAuthLine(token: string, user: string, uid: string, groups: readonly string[]): string {
  for (const [field, value] of Object.entries({ token, user, uid })) {
    if (/[,"\n]/.test(value))
      throw new Error(`token auth file: ${field} ${JSON.stringify(value)} has , " or a newline`);
  }
  return `${token},${user},${uid},"${groups.join(",")}"\n`;
}

export interface KubeconfigContent {
  /** Name of the cluster, user and context entries. */
  name: string;
  server: string;
  caCertPem: string;
  token: string;
}

export function kubeconfigYaml(content: KubeconfigContent): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: content.name,
        cluster: {
          server: content.server,
          "certificate-authority-data": Buffer.from(content.caCertPem).toString("base64"),
        },
      },
    ],
    users: [{ name: content.name, user: { token: content.token } }],
    contexts: [
      { name: content.name, context: { cluster: content.name, user: content.name, namespace: "default" } },
    ],
    "current-context": content.name,
  });
}

/** URL host part for an address: IPv6 literals go in brackets. */
export function urlHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

/** The `kubernetes` Service's ClusterIP: the first address of the range, which the certificate must name. */
export function firstServiceIp(range = DEFAULT_SERVICE_CLUSTER_IP_RANGE): string {
  const [base = "", bits] = range.split("/");
  if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(base) || bits === undefined) {
    throw new Error(
      `serviceClusterIpRange ${JSON.stringify(range)}: expected an IPv4 CIDR such as 203.0.113.0/24`,
    );
  }
  const value = base.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0) + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}
