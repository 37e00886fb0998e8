import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/**
 * A name for this process's queue or lock holder, unique in the cluster:
 * `service-host-pid-random`. Nothing secret goes in (the seed used the pod IP;
 * the host name and pid say as much to an operator).
 */
export function makeWorkerId(serviceName: string): string {
  return `${serviceName}-${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`.slice(
    0,
    255,
  );
}

/** A random lease token: 128 bits, hex. */
export function makeToken(): string {
  return randomBytes(16).toString("hex");
}
