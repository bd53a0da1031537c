// The configuration loader process: reads one standalone agent configuration (the agent's YAML or a
// keepalived.conf), validates it and prints the desired state as one JSON line, then exits.
//
// The agent runs it for every load and reload instead of loading the YAML parser, TypeBox, the
// compiled CRD validators and the CEL interpreter into its own heap: together they are more memory
// than the whole rest of the agent, which would carry them for its lifetime to use them for a
// fraction of a second at startup and on SIGHUP. Same code, same checks as before, in a process
// whose memory is gone when it has answered.
import { argv, stdout } from "node:process";
import { ConfigError } from "./config-error.js";
import {
  encodeLoaderResult,
  parseSourceArgs,
  type LoadedSpec,
  type LoaderResult,
  type SpecSource,
} from "./spec-source.js";

async function load(source: SpecSource): Promise<LoadedSpec> {
  if (source.kind === "config") {
    const { loadAgentConfig } = await import("./load.js");
    return { spec: loadAgentConfig(source.file), warnings: [] };
  }
  const { loadKeepalivedConfig } = await import("./keepalived.js");
  return loadKeepalivedConfig(source.file, source.nodeName);
}

let result: LoaderResult;
try {
  result = { ok: true, ...(await load(parseSourceArgs(argv.slice(2)))) };
} catch (e) {
  // Anything else is a defect: it reaches standard error with its stack and a non-zero exit.
  if (!(e instanceof ConfigError)) throw e;
  result = { ok: false, file: e.file, problems: e.problems };
}
stdout.write(encodeLoaderResult(result) + "\n");
