// kubelvs demo: the local sandbox cluster demo (e2e/demo/demo.ts). Needs root.
import { runDemo } from "../e2e/demo/demo.js";

export async function run(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(
      "usage: kubelvs demo\n\nAs root: a real kube-apiserver, the operator and three agents in network namespaces;\n" +
        "imports the seed configurations, elects a Master, kills its agent and shows the failover.\n",
    );
    return 0;
  }
  try {
    await runDemo();
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}
