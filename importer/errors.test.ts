// Malformed and questionable configurations: each gives exactly these located messages. Errors
// (file:line:col) fail the import; warnings (file:line: warning:) do not.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatDiagnostic } from "./diagnostics.js";
import { memoryFileSystem } from "./filesystem.js";
import { type ConfigSource, importKeepalived } from "./import.js";

const vip = "  virtual_ipaddress {\n    198.51.100.1/24\n  }";
const instance = (body: string, name = "VI_1") => `vrrp_instance ${name} {\n  interface eth0\n${body}\n}\n`;
const withService = (body: string, address = "198.51.100.1") =>
  instance(`  virtual_router_id 1\n${vip}`) + `virtual_server ${address} 80 {\n${body}\n}\n`;
const node = (vrid: number, priority: number, address = "198.51.100.1/24", extra = "") =>
  `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id ${vrid}\n  priority ${priority}\n` +
  `  virtual_ipaddress {\n    ${address}\n  }\n${extra}}\n`;
const SINGLE_NODE_NOTE = (line: number, priority = 100) =>
  `keepalived.conf:${line}: warning: vrrp_instance VI_1: one configuration describes one node, so every selected node gets priority ${priority} and the group has no nodeSelector (it runs on every node). Import each node's keepalived.conf with --node NAME=FILE to keep per-node priorities and select those nodes`;

interface BadInput {
  name: string;
  /** keepalived.conf, or several files. */
  files: string | Record<string, string>;
  /** Default: the single file keepalived.conf; two --node sources when files has a.conf and b.conf. */
  sources?: ConfigSource[];
  ok: boolean;
  messages: string[];
}

const TWO_NODES: ConfigSource[] = [
  { node: "lb1", file: "a.conf" },
  { node: "lb2", file: "b.conf" },
];

const cases: BadInput[] = [
  {
    name: "unknown block",
    files: "frobnicator {\n  x 1\n}\n" + instance(`  virtual_router_id 1\n${vip}`),
    ok: true,
    messages: [
      'keepalived.conf:1: warning: unknown keyword "frobnicator" in the top level (ignored)',
      SINGLE_NODE_NOTE(4),
    ],
  },
  {
    name: "bad IP address",
    files: instance("  virtual_router_id 1\n  virtual_ipaddress {\n    198.51.100.300/24\n  }"),
    ok: false,
    messages: ['keepalived.conf:5:5: virtual_ipaddress: "198.51.100.300/24" is not an IP address'],
  },
  {
    name: "VRID 0",
    files: instance(`  virtual_router_id 0\n${vip}`),
    ok: false,
    messages: [
      "keepalived.conf:3:21: virtual_router_id: 0 is out of range (1-255; it is one byte of the VRRP header and of the virtual MAC)",
    ],
  },
  {
    name: "VRID 256",
    files: instance(`  virtual_router_id 256\n${vip}`),
    ok: false,
    messages: [
      "keepalived.conf:3:21: virtual_router_id: 256 is out of range (1-255; it is one byte of the VRRP header and of the virtual MAC)",
    ],
  },
  {
    name: "priority 0 (reserved for resigning)",
    files: instance(`  virtual_router_id 1\n  priority 0\n${vip}`),
    ok: false,
    messages: [
      "keepalived.conf:4:12: priority 0 is reserved: a Master sends it to resign (RFC 5798 5.2.4); use 1-254, or 255 for the address owner",
    ],
  },
  {
    name: "priority 255 in a single configuration",
    files: instance(`  virtual_router_id 1\n  priority 255\n${vip}`),
    ok: false,
    messages: [
      "keepalived.conf:4:3: vrrp_instance VI_1: priority 255 marks the address owner, which only one node can be; with a single configuration every node would get it — import each node's file with --node NAME=FILE",
    ],
  },
  {
    name: "priority 255 on two nodes",
    files: { "a.conf": node(1, 255), "b.conf": node(1, 255) },
    sources: TWO_NODES,
    ok: false,
    messages: [
      "b.conf:4:3: vrrp_instance VI_1: priority 255 (address owner) on node lb2 and on node lb1 (a.conf:4); only the one node that owns the addresses may use 255",
    ],
  },
  {
    name: "nopreempt on the address owner",
    files: { "a.conf": node(1, 255, undefined, "  nopreempt\n"), "b.conf": node(1, 100) },
    sources: TWO_NODES,
    ok: true,
    messages: [
      "a.conf:8: warning: vrrp_instance VI_1: the address owner (priority 255) always preempts; nopreempt is ignored (as keepalived does)",
    ],
  },
  {
    name: "unterminated brace",
    files: "global_defs {\n  router_id a\n\nvrrp_instance VI_1 {\n  interface eth0\n}\n",
    ok: false,
    messages: [
      'keepalived.conf:1:13: unterminated block: the "{" of "global_defs" opened here is never closed with "}"',
    ],
  },
  {
    name: "unterminated quote",
    files: 'vrrp_script chk {\n  script "/bin/true\n}\n',
    ok: false,
    messages: [
      'keepalived.conf:2:10: unterminated quoted string: the " opened here is not closed on this line',
    ],
  },
  {
    name: "unexpected }",
    files: instance(`  virtual_router_id 1\n${vip}`) + "}\n",
    ok: false,
    messages: ['keepalived.conf:8:1: unexpected "}": there is no open block to close'],
  },
  {
    name: "{ with no keyword",
    files: "{\n}\n",
    ok: false,
    messages: ['keepalived.conf:1:1: unexpected "{": no keyword before it opens a block'],
  },
  {
    name: "include of a missing file",
    files: "global_defs {\n  router_id a\n}\ninclude conf.d/missing.conf\n",
    ok: false,
    messages: ['keepalived.conf:4:1: include: cannot read "conf.d/missing.conf": no such file'],
  },
  {
    name: "include cycle",
    files: {
      "keepalived.conf": "include a.conf\n",
      "a.conf": "include b.conf\n",
      "b.conf": "include a.conf\n",
    },
    ok: false,
    messages: ["b.conf:1:1: include cycle: a.conf -> b.conf -> a.conf"],
  },
  {
    name: "bad lb_kind",
    files: withService("  lb_kind FAST\n  real_server 203.0.113.1 80"),
    ok: false,
    messages: ['keepalived.conf:9:11: lb_kind: "FAST" is not one of NAT|DR|TUN'],
  },
  {
    name: "bad port",
    files: withService("  real_server 203.0.113.1 70000"),
    ok: false,
    messages: ["keepalived.conf:9:27: real_server port: 70000 is out of range (0-65535)"],
  },
  {
    name: "weight out of range",
    files: withService("  real_server 203.0.113.1 80 {\n    weight 70000\n  }"),
    ok: false,
    messages: ["keepalived.conf:10:12: weight: 70000 is out of range (0-65535)"],
  },
  {
    name: "virtual_server without real servers",
    files: withService("  lb_algo rr"),
    ok: true,
    messages: [
      SINGLE_NODE_NOTE(1),
      "keepalived.conf:8: warning: virtual_server 198.51.100.1 80 has no real_server: the service accepts connections but has nowhere to send them",
    ],
  },
  {
    name: "duplicate instance names",
    files: instance(`  virtual_router_id 1\n${vip}`) + instance(`  virtual_router_id 2\n${vip}`),
    ok: false,
    messages: [
      'keepalived.conf:8:15: vrrp_instance "VI_1" is defined twice (first at keepalived.conf:1); names must be unique',
    ],
  },
  {
    name: "duplicate VRID on one interface",
    files: instance(`  virtual_router_id 1\n${vip}`) + instance(`  virtual_router_id 1\n${vip}`, "VI_2"),
    ok: false,
    messages: [
      "keepalived.conf:10:21: vrrp_instance VI_2: virtual_router_id 1 on eth0 is already used by vrrp_instance VI_1 (keepalived.conf:3); VRRP tells routers apart by VRID, so each instance on one network needs its own",
    ],
  },
  {
    name: "sub-second advert_int with VRRPv2",
    files: instance(`  virtual_router_id 1\n  advert_int 0.5\n${vip}`),
    ok: false,
    messages: [
      'keepalived.conf:4:14: vrrp_instance VI_1: advert_int 0.5 needs VRRP version 3 (version 2 carries whole seconds); add "version 3" or use whole seconds',
    ],
  },
  {
    name: "IPv4 and IPv6 in one instance",
    files: instance(
      "  virtual_router_id 1\n  virtual_ipaddress {\n    198.51.100.1/24\n    2001:db8::1/64\n  }",
    ),
    ok: false,
    messages: [
      "keepalived.conf:6:5: vrrp_instance VI_1: virtual_ipaddress mixes IPv4 and IPv6; one VRRP instance serves one family (put the others in virtual_ipaddress_excluded or a second instance)",
    ],
  },
  {
    name: "IPv6 with VRRP version 2",
    files: instance("  virtual_router_id 1\n  version 2\n  virtual_ipaddress {\n    2001:db8::1/64\n  }"),
    ok: false,
    messages: [
      "keepalived.conf:4:11: vrrp_instance VI_1: VRRP version 2 is IPv4 only; IPv6 addresses need version 3",
    ],
  },
  {
    name: "instance without virtual_router_id",
    files: instance(vip),
    ok: false,
    messages: ["keepalived.conf:1:15: vrrp_instance VI_1 has no virtual_router_id (1-255)"],
  },
  {
    name: "AH authentication",
    files: instance(
      `  virtual_router_id 1\n  authentication {\n    auth_type AH\n    auth_pass x\n  }\n${vip}`,
    ),
    ok: false,
    messages: [
      "keepalived.conf:5:15: vrrp_instance VI_1: auth_type AH (IPsec) is not supported by kubelvs; use PASS or remove the authentication block",
    ],
  },
  {
    name: "MISC_CHECK without misc_path",
    files: withService("  real_server 203.0.113.1 80 {\n    MISC_CHECK {\n      misc_timeout 3\n    }\n  }"),
    ok: false,
    messages: ["keepalived.conf:10:5: MISC_CHECK needs misc_path (the command to run)"],
  },
  {
    name: "bad status_code",
    files: withService(
      "  real_server 203.0.113.1 80 {\n    HTTP_GET {\n      url {\n        path /\n        status_code 2xx\n      }\n    }\n  }",
    ),
    ok: false,
    messages: ['keepalived.conf:13:21: status_code: "2xx" is not an HTTP status code or range (100-599)'],
  },
  {
    name: "virtual server without a port and without persistence",
    files: "virtual_server 198.51.100.1 {\n  real_server 203.0.113.1 80\n}\n",
    ok: false,
    messages: [
      "keepalived.conf:1:1: virtual_server 198.51.100.1: a virtual server without a port must be persistent (persistence_timeout); give the port",
    ],
  },
  {
    name: "hysteresis not below the quorum",
    files: withService("  quorum 2\n  hysteresis 2\n  real_server 203.0.113.1 80"),
    ok: false,
    messages: [
      "keepalived.conf:10:14: virtual_server 198.51.100.1 80: hysteresis 2 must be smaller than the quorum (2)",
    ],
  },
  {
    name: "flag given a value",
    files: instance(`  virtual_router_id 1\n  nopreempt yes\n${vip}`),
    ok: false,
    messages: ['keepalived.conf:4:13: "nopreempt" needs no value'],
  },
  {
    name: "~SEQ repetition",
    files: "~SEQ(N, 1, 3) vrrp_instance VI_$N {\n",
    ok: false,
    messages: [
      "keepalived.conf:1:1: ~SEQ/~LST repetition blocks are not supported by the importer; expand them first (keepalived --config-test ... writes the expanded configuration with -d)",
    ],
  },
  {
    name: "VIP that no instance carries",
    files: withService("  real_server 203.0.113.1 80", "198.51.100.9"),
    ok: true,
    messages: [
      SINGLE_NODE_NOTE(1),
      "keepalived.conf:8: warning: virtual_server 198.51.100.9 80: no vrrp_instance carries 198.51.100.9 (it is in no virtual_ipaddress), so the VirtualService names no vrrpGroup and kubelvs will not serve it until a VrrpGroup carries that address: add 198.51.100.9 to a group's spec.virtualIPs (or to a virtual_ipaddress block before importing)",
    ],
  },
  {
    name: "port mapping with DR",
    files: withService("  lb_kind DR\n  real_server 203.0.113.1 8080"),
    ok: true,
    messages: [
      SINGLE_NODE_NOTE(1),
      "keepalived.conf:10: warning: virtual_server 198.51.100.1 80: real_server 203.0.113.1 port 8080 cannot differ from the virtual port with DR forwarding (IPVS does not rewrite ports); the virtual port 80 is used",
    ],
  },
  {
    name: "address range in virtual_ipaddress",
    files: instance("  virtual_router_id 1\n  virtual_ipaddress {\n    198.51.100.1-9\n  }"),
    ok: false,
    messages: [
      'keepalived.conf:5:5: virtual_ipaddress: address ranges are only allowed in virtual_server_group, not "198.51.100.1-9"',
    ],
  },
  {
    name: "firewall-mark service with two candidate groups",
    files:
      instance(`  virtual_router_id 1\n${vip}`) +
      instance("  virtual_router_id 2\n  virtual_ipaddress {\n    198.51.100.2/24\n  }", "VI_2") +
      "virtual_server fwmark 5 {\n  real_server 203.0.113.1\n}\n",
    ok: false,
    messages: [
      SINGLE_NODE_NOTE(1),
      SINGLE_NODE_NOTE(8).replace("VI_1", "VI_2"),
      "keepalived.conf:15:1: virtual_server fwmark 5: a firewall-mark VirtualService needs a vrrpGroup, and 2 IPv4 groups could carry it (vi-1, vi-2); import it in a configuration whose only instance of that family is the one carrying the addresses the firewall marks select",
    ],
  },
  {
    name: "different VRIDs on two nodes",
    files: { "a.conf": node(1, 150), "b.conf": node(2, 100) },
    sources: TWO_NODES,
    ok: false,
    messages: [
      "b.conf:3:3: vrrp_instance VI_1: virtual_router_id 2 on node lb2 differs from 1 on node lb1 (a.conf:3); one VrrpGroup has one VRID",
    ],
  },
  {
    name: "different VIPs on two nodes",
    files: { "a.conf": node(1, 150), "b.conf": node(1, 100, "198.51.100.2/24") },
    sources: TWO_NODES,
    ok: false,
    messages: [
      "b.conf:5:3: vrrp_instance VI_1: virtual_ipaddress 198.51.100.2/24 on node lb2 differs from 198.51.100.1/24 on node lb1 (a.conf:5); the addresses must be the same on every router of a VRRP instance",
    ],
  },
  {
    name: "equal priorities on two nodes",
    files: { "a.conf": node(1, 100), "b.conf": node(1, 100) },
    sources: TWO_NODES,
    ok: true,
    messages: [
      "b.conf:4: warning: vrrp_instance VI_1: node lb2 has the same priority (100) as node lb1; VRRP then elects the node with the higher primary address — give each node its own priority",
    ],
  },
  {
    name: "unicast on one node, multicast on the other",
    files: {
      "a.conf": node(1, 150, undefined, "  unicast_peer {\n    198.51.100.12\n  }\n"),
      "b.conf": node(1, 100),
    },
    sources: TWO_NODES,
    ok: false,
    messages: [
      "a.conf:8:3: vrrp_instance VI_1: node lb1 uses unicast_peer but node lb2 (b.conf:1) uses multicast; they would not hear each other",
    ],
  },
  {
    name: "virtual servers that differ between nodes",
    files: {
      "a.conf":
        node(1, 150) +
        "virtual_server 198.51.100.1 80 {\n  real_server 203.0.113.1 80 {\n    weight 2\n  }\n}\n",
      "b.conf":
        node(1, 100) +
        "virtual_server 198.51.100.1 80 {\n  real_server 203.0.113.1 80 {\n    weight 3\n  }\n}\n",
    },
    sources: TWO_NODES,
    ok: false,
    messages: [
      "b.conf:9:1: virtual_server 198.51.100.1 80 differs between node lb2 and node lb1 (a.conf:9) at realServers[0].weight: 3 versus 2; whichever node is Master serves it, so it must be the same everywhere",
    ],
  },
];

describe("bad inputs give exactly these located messages", () => {
  for (const c of cases) {
    test(c.name, () => {
      const files = typeof c.files === "string" ? { "keepalived.conf": c.files } : c.files;
      const sources = c.sources ?? [{ file: "keepalived.conf" }];
      const result = importKeepalived(sources, { fs: memoryFileSystem(files), namespace: "default" });
      assert.deepEqual(result.diagnostics.map(formatDiagnostic), c.messages);
      assert.equal(result.ok, c.ok);
      if (!c.ok) assert.deepEqual(result.objects, []);
    });
  }

  test("at least 15 distinct inputs are rejected with errors", () => {
    assert.ok(cases.filter((c) => !c.ok).length >= 15);
  });
});
