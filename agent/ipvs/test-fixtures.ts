// Small builders of IPVS table entries shared by the planner's and the reconciler's tests.
import {
  NO_SERVICE_FLAGS,
  type IpvsDestination,
  type IpvsService,
  type ServiceKey,
} from "../../native/ipvs/model.js";

export const tcp = (address: string, port: number): ServiceKey => ({
  kind: "address",
  protocol: "tcp",
  address,
  port,
});

export const service = (key: ServiceKey, extra: Partial<IpvsService> = {}): IpvsService => ({
  key,
  scheduler: "wlc",
  flags: NO_SERVICE_FLAGS,
  timeout: 0,
  netmask: "255.255.255.255",
  ...extra,
});

export const destination = (address: string, extra: Partial<IpvsDestination> = {}): IpvsDestination => ({
  address,
  port: 80,
  forwarding: "masq",
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  ...extra,
});
