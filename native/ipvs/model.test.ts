// Naming and identity of IPVS objects: what errors print and what maps and sets key on.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeAddress, formatEndpoint } from "./address.js";
import {
  describeDestination,
  describeService,
  destinationKeyId,
  hostNetmask,
  ipv4Netmask,
  IpvsValidationError,
  serviceFamily,
  serviceKeyId,
} from "./model.js";

test("services and destinations are named the way ipvsadm prints them", () => {
  assert.equal(
    describeService({ kind: "address", protocol: "sctp", address: "2001:db8::1", port: 3868 }),
    "SCTP [2001:db8::1]:3868",
  );
  assert.equal(describeService({ kind: "fwmark", family: 4, fwmark: 12 }), "FWM 12");
  assert.equal(describeDestination({ address: "203.0.113.7", port: 0 }), "203.0.113.7:0");
  assert.equal(formatEndpoint("2001:db8::7", 80), "[2001:db8::7]:80");
});

test("keys identify one kernel object whatever the spelling of the address", () => {
  assert.equal(
    serviceKeyId({ kind: "address", protocol: "tcp", address: "2001:DB8:0:0::1", port: 80 }),
    serviceKeyId({ kind: "address", protocol: "tcp", address: "2001:db8::1", port: 80 }),
  );
  assert.notEqual(
    serviceKeyId({ kind: "fwmark", family: 4, fwmark: 1 }),
    serviceKeyId({ kind: "fwmark", family: 6, fwmark: 1 }),
  );
  assert.equal(destinationKeyId({ address: "2001:db8:0::5", port: 8080 }), "2001:db8::5/8080");
  assert.equal(serviceFamily({ kind: "address", protocol: "udp", address: "198.51.100.9", port: 53 }), 4);
  assert.throws(
    () => serviceFamily({ kind: "address", protocol: "udp", address: "example.com", port: 53 }),
    IpvsValidationError,
  );
});

test("netmasks: prefix lengths to IPv4 masks, and the per-client default of each family", () => {
  assert.equal(ipv4Netmask(24), "255.255.255.0");
  assert.equal(ipv4Netmask(0), "0.0.0.0");
  assert.equal(ipv4Netmask(32), "255.255.255.255");
  assert.equal(ipv4Netmask(17), "255.255.128.0");
  assert.throws(() => ipv4Netmask(33), IpvsValidationError);
  assert.equal(hostNetmask(4), "255.255.255.255");
  assert.equal(hostNetmask(6), 128);
});

test("kernel address fields are 16 bytes; the family says how many of them are the address", () => {
  const field = Buffer.from("cb00710b000000000000000000000000", "hex");
  assert.equal(decodeAddress(4, field), "203.0.113.11");
  assert.equal(decodeAddress(6, Buffer.from("20010db8000000000000000000000001", "hex")), "2001:db8::1");
});
