// How to reach and authenticate to the API server: a kubeconfig file (the current context's cluster
// and user) or the in-cluster service account. Supported credentials: bearer tokens (inline or a
// file, re-read as it rotates), client certificates (inline or files), basic auth, and exec plugins
// (client.authentication.k8s.io ExecCredential, cached until they expire). Legacy auth-provider
// plugins and proxies are refused with a message saying so.
//
// Not @kubernetes/client-node's KubeConfig: importing that package costs every process ~85 MB of
// memory (it loads all generated API clients), which the operator's 300 MB budget and the agent on
// every node cannot afford for what is a few dozen lines of YAML reading.
import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface RequestCredentials {
  headers: Record<string, string>;
  tls: TlsMaterial;
}

/** Where the API server is and how each request proves who it is. */
export interface ClusterAccess {
  server: URL;
  /** Where this came from, for error messages: "kubeconfig FILE (context NAME)" or "in-cluster". */
  source: string;
  /** Credentials for the next request: tokens from files or exec plugins are refreshed as they expire. */
  credentials(): Promise<RequestCredentials>;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** Bound service-account tokens rotate; the kubelet rewrites the file well before expiry. */
const TOKEN_FILE_REREAD_MS = 60_000;
const EXEC_EXPIRY_MARGIN_MS = 30_000;

interface NamedEntry<T> {
  name: string;
  cluster?: T;
  user?: T;
  context?: T;
}

interface ClusterEntry {
  server?: string;
  "certificate-authority"?: string;
  "certificate-authority-data"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "tls-server-name"?: string;
  "proxy-url"?: string;
}

interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  apiVersion?: string;
  provideClusterInfo?: boolean;
}

interface UserEntry {
  token?: string;
  tokenFile?: string;
  "client-certificate"?: string;
  "client-certificate-data"?: string;
  "client-key"?: string;
  "client-key-data"?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  "auth-provider"?: { name?: string };
}

interface ContextEntry {
  cluster?: string;
  user?: string;
}

interface KubeconfigFile {
  clusters?: NamedEntry<ClusterEntry>[];
  users?: NamedEntry<UserEntry>[];
  contexts?: NamedEntry<ContextEntry>[];
  "current-context"?: string;
}

/** A file that is read again when it is older than `maxAgeMs` and has changed on disk. */
class RereadFile {
  private content: Buffer | undefined;
  private readAt = 0;
  private mtimeMs = -1;

  constructor(
    readonly path: string,
    private readonly maxAgeMs: number,
  ) {}

  read(now = Date.now()): Buffer {
    if (this.content === undefined || now - this.readAt >= this.maxAgeMs) {
      const mtime = statSync(this.path).mtimeMs;
      if (this.content === undefined || mtime !== this.mtimeMs) {
        this.content = readFileSync(this.path);
        this.mtimeMs = mtime;
      }
      this.readAt = now;
    }
    return this.content;
  }
}

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token.trim()}` };
}

/** The in-cluster service account: $KUBERNETES_SERVICE_HOST/PORT, its CA and its (rotating) token. */
export function inClusterAccess(directory = SERVICE_ACCOUNT_DIR): ClusterAccess {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new Error("in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT");
  const tokenFile = new RereadFile(join(directory, "token"), TOKEN_FILE_REREAD_MS);
  let ca: Buffer;
  try {
    ca = readFileSync(join(directory, "ca.crt"));
    tokenFile.read();
  } catch (e) {
    throw new Error(`in-cluster configuration: ${(e as Error).message}`);
  }
  const server = new URL(`https://${host.includes(":") ? `[${host}]` : host}:${port}`);
  return {
    server,
    source: "in-cluster",
    credentials: async () => ({ headers: bearer(tokenFile.read().toString("utf8")), tls: { ca } }),
  };
}

/** Paths in a kubeconfig are relative to the file that names them. */
function resolvePath(file: string, path: string): string {
  return isAbsolute(path) ? path : join(dirname(file), path);
}

function material(file: string, path: string | undefined, data: string | undefined): Buffer | undefined {
  if (data !== undefined) return Buffer.from(data, "base64");
  if (path !== undefined) return readFileSync(resolvePath(file, path));
  return undefined;
}

/** The files a default load considers: $KUBECONFIG (a list), else ~/.kube/config. */
export function defaultKubeconfigFiles(): string[] {
  const fromEnv = (process.env.KUBECONFIG ?? "").split(":").filter((p) => p !== "");
  return fromEnv.length > 0 ? fromEnv : [join(homedir(), ".kube", "config")];
}

interface Merged {
  clusters: Map<string, { entry: ClusterEntry; file: string }>;
  users: Map<string, { entry: UserEntry; file: string }>;
  contexts: Map<string, ContextEntry>;
  currentContext?: string;
}

/** Merges kubeconfig files the way kubectl does: the first file to name an entry wins. */
function mergeFiles(files: readonly string[]): Merged {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of files) {
    let parsed: KubeconfigFile;
    try {
      parsed = (parse(readFileSync(file, "utf8")) ?? {}) as KubeconfigFile;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT" && files.length > 1) continue;
      throw new Error(`kubeconfig ${file}: ${(e as Error).message}`);
    }
    for (const c of parsed.clusters ?? [])
      if (c.cluster && !merged.clusters.has(c.name)) merged.clusters.set(c.name, { entry: c.cluster, file });
    for (const u of parsed.users ?? [])
      if (!merged.users.has(u.name)) merged.users.set(u.name, { entry: u.user ?? {}, file });
    for (const c of parsed.contexts ?? [])
      if (c.context && !merged.contexts.has(c.name)) merged.contexts.set(c.name, c.context);
    merged.currentContext ??= parsed["current-context"] || undefined;
  }
  return merged;
}

/** The current context of one or more kubeconfig files. */
export function kubeconfigAccess(files: readonly string[]): ClusterAccess {
  const merged = mergeFiles(files);
  const where = `kubeconfig ${files.join(":")}`;
  const contextName = merged.currentContext;
  if (contextName === undefined) throw new Error(`${where}: no current-context`);
  const context = merged.contexts.get(contextName);
  if (context === undefined) throw new Error(`${where}: context ${contextName} not found`);
  const cluster = context.cluster === undefined ? undefined : merged.clusters.get(context.cluster);
  if (cluster === undefined)
    throw new Error(`${where}: cluster ${context.cluster ?? "(none)"} of context ${contextName} not found`);
  const c = cluster.entry;
  if (!c.server) throw new Error(`${where}: cluster ${context.cluster} has no server`);
  if (c["proxy-url"]) throw new Error(`${where}: cluster ${context.cluster}: proxy-url is not supported`);
  const user =
    context.user === undefined ? { entry: {}, file: cluster.file } : merged.users.get(context.user);
  if (user === undefined)
    throw new Error(`${where}: user ${context.user} of context ${contextName} not found`);
  const u = user.entry;
  if (u["auth-provider"])
    throw new Error(
      `${where}: user ${context.user}: auth-provider ${u["auth-provider"].name ?? ""} is not supported; use an exec credential plugin`,
    );

  const source = `${where} (context ${contextName})`;
  const tls: TlsMaterial = {
    ...(c["insecure-skip-tls-verify"] ? { rejectUnauthorized: false } : {}),
    ...(c["tls-server-name"] ? { servername: c["tls-server-name"] } : {}),
  };
  try {
    const ca = material(cluster.file, c["certificate-authority"], c["certificate-authority-data"]);
    const cert = material(user.file, u["client-certificate"], u["client-certificate-data"]);
    const key = material(user.file, u["client-key"], u["client-key-data"]);
    Object.assign(tls, ca ? { ca } : {}, cert ? { cert } : {}, key ? { key } : {});
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }

  let headers: () => Promise<RequestCredentials>;
  if (u.exec !== undefined) {
    const plugin = new ExecPlugin(u.exec, user.file, c.server);
    headers = async () => {
      const issued = await plugin.credential();
      return {
        headers: issued.token === undefined ? {} : bearer(issued.token),
        tls: { ...tls, ...(issued.cert ? { cert: issued.cert, key: issued.key } : {}) },
      };
    };
  } else if (u.token !== undefined) {
    const fixed = bearer(u.token);
    headers = async () => ({ headers: fixed, tls });
  } else if (u.tokenFile !== undefined) {
    const file = new RereadFile(resolvePath(user.file, u.tokenFile), TOKEN_FILE_REREAD_MS);
    headers = async () => ({ headers: bearer(file.read().toString("utf8")), tls });
  } else if (u.username !== undefined) {
    const basic = {
      Authorization: `Basic ${Buffer.from(`${u.username}:${u.password ?? ""}`).toString("base64")}`,
    };
    headers = async () => ({ headers: basic, tls });
  } else {
    headers = async () => ({ headers: {}, tls });
  }
  return { server: new URL(c.server), source, credentials: headers };
}

interface IssuedCredential {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  expiresAt: number;
}

/** A client.authentication.k8s.io exec plugin, run when its last credential has (nearly) expired. */
class ExecPlugin {
  private issued: IssuedCredential | undefined;
  private running: Promise<IssuedCredential> | undefined;

  constructor(
    private readonly config: ExecConfig,
    private readonly kubeconfigFile: string,
    private readonly server: string,
  ) {}

  async credential(): Promise<IssuedCredential> {
    if (this.issued !== undefined && Date.now() < this.issued.expiresAt - EXEC_EXPIRY_MARGIN_MS)
      return this.issued;
    this.running ??= this.run().finally(() => (this.running = undefined));
    this.issued = await this.running;
    return this.issued;
  }

  private run(): Promise<IssuedCredential> {
    const { command, args = [], env, apiVersion = "client.authentication.k8s.io/v1" } = this.config;
    // A bare name is looked up on PATH; a relative path is relative to the kubeconfig.
    const file = command.includes("/") ? resolvePath(this.kubeconfigFile, command) : command;
    const execInfo = {
      apiVersion,
      kind: "ExecCredential",
      spec: {
        interactive: false,
        ...(this.config.provideClusterInfo ? { cluster: { server: this.server } } : {}),
      },
    };
    const environment = {
      ...process.env,
      ...Object.fromEntries((env ?? []).map((e) => [e.name, e.value])),
      KUBERNETES_EXEC_INFO: JSON.stringify(execInfo),
    };
    return new Promise((resolve, reject) => {
      execFile(
        file,
        args,
        { env: environment, timeout: 60_000, maxBuffer: 1 << 20 },
        (error, stdout, stderr) => {
          if (error) {
            reject(
              new Error(
                `exec credential plugin ${command}: ${error.message}${stderr ? `: ${stderr.trim()}` : ""}`,
              ),
            );
            return;
          }
          try {
            const status = (
              JSON.parse(stdout) as {
                status?: {
                  token?: string;
                  clientCertificateData?: string;
                  clientKeyData?: string;
                  expirationTimestamp?: string;
                };
              }
            ).status;
            if (!status?.token && !status?.clientCertificateData)
              throw new Error("its ExecCredential has neither status.token nor status.clientCertificateData");
            const expires = status.expirationTimestamp
              ? Date.parse(status.expirationTimestamp)
              : Number.POSITIVE_INFINITY;
            resolve({
              ...(status.token ? { token: status.token } : {}),
              ...(status.clientCertificateData
                ? {
                    cert: Buffer.from(status.clientCertificateData),
                    key: Buffer.from(status.clientKeyData ?? ""),
                  }
                : {}),
              expiresAt: Number.isFinite(expires) ? expires : Number.POSITIVE_INFINITY,
            });
          } catch (e) {
            reject(new Error(`exec credential plugin ${command}: ${(e as Error).message}`));
          }
        },
      );
    });
  }
}
