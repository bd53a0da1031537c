// Builds a lab in its own process, prints {prefix}, then ends the way the first argument says —
// used by lab.lab.test.ts to prove teardown happens however a test run ends.
//   throw:   an uncaught exception       wait: idles until a signal arrives
//   reject:  an unhandled promise rejection
import { Lab } from "../lab.js";

const mode = process.argv[2] ?? "wait";
const lab = await Lab.create({ nodes: 1, client: false });
const sleeper = lab.spawn("n1", "sleep", ["1000"]);
process.stdout.write(`${JSON.stringify({ prefix: lab.prefix, sleeperPid: sleeper.pid })}\n`);

if (mode === "throw") {
  setTimeout(() => {
    throw new Error("deliberate uncaught exception");
  }, 50);
} else if (mode === "reject") {
  setTimeout(() => void Promise.reject(new Error("deliberate unhandled rejection")), 50);
} else {
  setInterval(() => undefined, 1000);
}
