// Several agents may run on one host (the seed's multi-instance setup: web and db). Each has an
// instance name, and everything a running instance owns on the host is named after it, so two
// instances never share a pid file, control socket or log file.
import { join } from "node:path";

export const DEFAULT_RUN_DIR = "/run/kubelvs";
const INSTANCE_NAME = /^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/;

export interface InstancePaths {
  instance: string;
  pidFile: string;
  controlSocket: string;
}

export function instancePaths(instance: string, runDir = DEFAULT_RUN_DIR): InstancePaths {
  if (!INSTANCE_NAME.test(instance)) {
    throw new Error(
      `instance name ${JSON.stringify(instance)}: use 1-63 of a-z 0-9 - _ . starting and ending alphanumeric`,
    );
  }
  return {
    instance,
    pidFile: join(runDir, `${instance}.pid`),
    controlSocket: join(runDir, `${instance}.sock`),
  };
}
