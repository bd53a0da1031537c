// Small helpers for the k8s-tier tests: apply objects and read them back with kubectl (what a user
// would see), and wait for a condition with a deadline and a message saying what was last seen.
import { setTimeout as sleep } from "node:timers/promises";
import { kubectlOk, type KubectlTarget } from "../../e2e/control-plane/kubectl.js";

/** Polls `probe` until it returns a value other than undefined; throws with `describe()` after the timeout. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const seen = options.describe ? await options.describe() : "";
      const error = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out waiting for ${what}${error}${seen ? `; last seen: ${seen}` : ""}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** `kubectl apply -f -` of the given objects. */
export async function applyObjects(target: KubectlTarget, ...objects: object[]): Promise<void> {
  await kubectlOk(target, ["apply", "-f", "-"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  });
}

/** `kubectl get … -o json`, parsed. */
export async function getJson<T>(target: KubectlTarget, ...args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk(target, ["get", ...args, "-o", "json"])) as T;
}

/** A Node object as a kubelet would register it: labels and an InternalIP. */
export function nodeObject(name: string, labels: Record<string, string>, ...internalIPs: string[]): object {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels },
    status: { addresses: internalIPs.map((address) => ({ type: "InternalIP", address })) },
  };
}

/** Rows of a `kubectl get` table as maps from column name to cell. */
export function tableRows(table: string): Record<string, string>[] {
  const [header = "", ...lines] = table.split("\n").filter((l) => l.trim() !== "");
  const starts: number[] = [];
  const names: string[] = [];
  for (const m of header.matchAll(/\S+(?: \S+)*/g)) {
    starts.push(m.index);
    names.push(m[0]);
  }
  return lines.map((line) =>
    Object.fromEntries(names.map((name, i) => [name, line.slice(starts[i], starts[i + 1]).trim()])),
  );
}
