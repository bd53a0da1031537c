// Addresses as IPVS carries them: the kernel's address attributes are a 16-byte union (an IPv4
// address in the first 4 bytes), and ipvsadm writes endpoints as "198.51.100.1:80" or
// "[2001:db8::1]:80". Text <-> bytes itself is native/ip-address.ts.
import { formatIp, ipFamilyOf, type IpFamily } from "../ip-address.js";

/** Address length in bytes for a family. */
export const addressLength = (family: IpFamily): number => (family === 4 ? 4 : 16);

/** Formats the address of `family` at the start of a (possibly longer) kernel address field. */
export function decodeAddress(family: IpFamily, field: Buffer): string {
  return formatIp(field.subarray(0, addressLength(family)));
}

/** "198.51.100.1:80" or "[2001:db8::1]:80", as ipvsadm prints endpoints. */
export function formatEndpoint(address: string, port: number): string {
  return ipFamilyOf(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
