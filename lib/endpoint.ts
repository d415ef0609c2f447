/**
 * Emulator endpoints redirect credentials-free traffic; accepting them only on
 * loopback means a mis-set variable in production cannot send findings, tokens
 * or reports to another host.
 */
import ipaddr from 'ipaddr.js';

export interface HostPort {
  host: string;
  port: number;
}

export function splitHostPort(value: string): HostPort | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: (m[1] ?? m[2]) as string, port };
}

export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  if (!ipaddr.isValid(host)) return false;
  const addr = ipaddr.process(host);
  return addr.range() === 'loopback';
}

export function isLoopbackEndpoint(value: string): boolean {
  const hp = splitHostPort(value);
  return hp !== null && isLoopbackHost(hp.host);
}
