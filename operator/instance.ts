// kubelvs instances: several operators (each with its agents) sharing one cluster, like several
// keepalived processes on one host. An instance serves the VrrpGroups labelled
// kubelvs.io/instance=<instance>; the unnamed instance ("") serves the groups without that label,
// which is what a single installation does. Each instance has its own NodeState per node, its own
// leader Lease, and never reads or writes another instance's.
//
// NodeState names: the unnamed instance keeps the node's name (a single installation is unchanged);
// a named one uses "<instance>.<node>". An instance name is a DNS label (no dot), so the first label
// of such a name is always the instance.
import { MANAGED_BY, MANAGED_BY_LABEL } from "./cluster-objects.js";

export const INSTANCE_LABEL = "kubelvs.io/instance";
/** On every NodeState whose node name fits in a label value: `kubectl get nodestates -l kubelvs.io/node=…`. */
export const NODE_LABEL = "kubelvs.io/node";
export const UNNAMED_INSTANCE = "";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_INSTANCE_LENGTH = 63;
const MAX_OBJECT_NAME_LENGTH = 253;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const MAX_LABEL_VALUE_LENGTH = 63;

/** The instance name itself when valid ("" is the unnamed instance); an Error saying why otherwise. */
export function checkInstanceName(name: string): string {
  if (name === UNNAMED_INSTANCE) return name;
  if (name.length > MAX_INSTANCE_LENGTH || !DNS_LABEL.test(name))
    throw new Error(
      `instance "${name}": use at most ${MAX_INSTANCE_LENGTH} lowercase letters, digits and dashes, starting and ending with a letter or digit`,
    );
  return name;
}

/** The instance an object belongs to: its kubelvs.io/instance label; none (or an empty one) is the unnamed instance. */
export function instanceOf(meta: { labels?: Record<string, string> }): string {
  return meta.labels?.[INSTANCE_LABEL] ?? UNNAMED_INSTANCE;
}

/** The name of `node`'s NodeState in `instance`; throws when it would exceed an object name's 253 characters. */
export function nodeStateName(instance: string, node: string): string {
  const name = instance === UNNAMED_INSTANCE ? node : `${instance}.${node}`;
  if (name.length > MAX_OBJECT_NAME_LENGTH)
    throw new Error(
      `node ${node}: its NodeState name for instance ${instance} would be ${name.length} characters, more than the ${MAX_OBJECT_NAME_LENGTH} an object name may have`,
    );
  return name;
}

/** The node a NodeState of `instance` describes; undefined when the name is not of that instance's form. */
export function nodeOfNodeState(instance: string, name: string): string | undefined {
  if (instance === UNNAMED_INSTANCE) return name;
  const prefix = `${instance}.`;
  return name.startsWith(prefix) && name.length > prefix.length ? name.slice(prefix.length) : undefined;
}

/** The labels the operator keeps on the NodeStates it owns. */
export function nodeStateLabels(instance: string, node: string): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    ...(instance === UNNAMED_INSTANCE ? {} : { [INSTANCE_LABEL]: instance }),
    // Node names may be 253 characters, label values only 63.
    ...(node.length <= MAX_LABEL_VALUE_LENGTH && LABEL_VALUE.test(node) ? { [NODE_LABEL]: node } : {}),
  };
}

/** The label selector of an instance's NodeStates (for lists and watches). */
export function nodeStateSelector(instance: string): string {
  return instance === UNNAMED_INSTANCE ? `!${INSTANCE_LABEL}` : `${INSTANCE_LABEL}=${instance}`;
}

/** The leader-election Lease of an instance's operator replicas, unless --lease-name says otherwise. */
export function defaultLeaseName(instance: string): string {
  return instance === UNNAMED_INSTANCE ? "kubelvs-operator" : `kubelvs-operator-${instance}`;
}

/** How an instance appears in messages. */
export function describeInstance(instance: string): string {
  return instance === UNNAMED_INSTANCE ? "the unnamed instance" : `instance ${instance}`;
}
