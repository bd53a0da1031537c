// The key material of a throwaway control plane: a CA, the API server's serving certificate signed
// by it, and the service-account signing key pair. Made with Debian's openssl (node:crypto makes keys
// but not X.509 certificates); ECDSA P-256 keeps generation instant.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestPki {
  caCertFile: string;
  caKeyFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  serviceAccountPublicKeyFile: string;
  serviceAccountSigningKeyFile: string;
}

export interface ServingNames {
  ipAddresses: readonly string[];
  dnsNames: readonly string[];
}

/** Names every API server certificate carries, besides the addresses it listens on. */
export const API_SERVER_DNS_NAMES = [
  "localhost",
  "kubernetes",
  "kubernetes.default",
  "kubernetes.default.svc",
  "kubernetes.default.svc.cluster.local",
];

function openssl(args: string[], what: string): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `openssl failed to ${what}: openssl ${args.join(" ")}: ${stderr || (e as Error).message}`,
    );
  }
}

function opensslConfig(names: ServingNames): string {
  const altNames = [
    ...names.ipAddresses.map((ip) => `IP:${ip}`),
    ...names.dnsNames.map((dns) => `DNS:${dns}`),
  ];
  // Our own config file instead of the system one, so no default extension section adds or clashes
  // with the ones below.
  return [
    "[req]",
    "distinguished_name = subject",
    "prompt = no",
    "[subject]",
    "CN = kubelvs-test",
    "[ca]",
    "basicConstraints = critical, CA:TRUE",
    "keyUsage = critical, keyCertSign, cRLSign, digitalSignature",
    "subjectKeyIdentifier = hash",
    "[serving]",
    "basicConstraints = critical, CA:FALSE",
    "keyUsage = critical, digitalSignature, keyEncipherment",
    "extendedKeyUsage = serverAuth",
    "subjectKeyIdentifier = hash",
    "authorityKeyIdentifier = keyid",
    `subjectAltName = ${altNames.join(", ")}`,
    "",
  ].join("\n");
}

/** Writes a fresh CA, serving certificate and service-account key pair into `dir`. */
export function createTestPki(dir: string, names: ServingNames): TestPki {
  const file = (name: string) => join(dir, name);
  const pki: TestPki = {
    caCertFile: file("ca.crt"),
    caKeyFile: file("ca.key"),
    servingCertFile: file("apiserver.crt"),
    servingKeyFile: file("apiserver.key"),
    serviceAccountPublicKeyFile: file("service-account.pub"),
    serviceAccountSigningKeyFile: file("service-account.key"),
  };
  const config = file("openssl.cnf");
  writeFileSync(config, opensslConfig(names));
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  // A day of validity: the control plane lives for one test run or demo.
  openssl(
    ["req", "-x509", "-config", config, "-extensions", "ca", ...newKey, "-keyout", pki.caKeyFile].concat([
      "-out",
      pki.caCertFile,
      "-subj",
      "/CN=kubelvs-test-ca",
      "-days",
      "1",
    ]),
    "create the test CA",
  );
  const csr = file("apiserver.csr");
  openssl(
    ["req", "-new", "-config", config, ...newKey, "-keyout", pki.servingKeyFile, "-out", csr].concat([
      "-subj",
      "/CN=kube-apiserver",
    ]),
    "create the API server's key and certificate request",
  );
  openssl(
    ["x509", "-req", "-in", csr, "-CA", pki.caCertFile, "-CAkey", pki.caKeyFile, "-out", pki.servingCertFile]
      .concat(["-extfile", config, "-extensions", "serving", "-days", "1"])
      .concat(["-set_serial", `0x${randomBytes(16).toString("hex")}`]),
    "sign the API server's serving certificate",
  );
  openssl(
    ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", pki.serviceAccountSigningKeyFile],
    "create the service-account signing key",
  );
  openssl(
    ["ec", "-in", pki.serviceAccountSigningKeyFile, "-pubout", "-out", pki.serviceAccountPublicKeyFile],
    "derive the service-account public key",
  );
  return pki;
}
