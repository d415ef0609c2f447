/**
 * The one place Google clients are constructed. Everything else receives a
 * client (or a narrow interface of one) as an argument, so tests hand in the
 * same real client pointed at a local emulator.
 *
 * Client modules are imported lazily: a cold instance pays for the SDKs it
 * actually uses, on the first event that needs them.
 */
import type { v2 } from '@google-cloud/security-center';
import type { Config } from './config.js';
import { splitHostPort } from './endpoint.js';

export type SccClient = InstanceType<typeof v2.SecurityCenterClient>;

/** Options that point a gax client at a loopback emulator without credentials. */
export async function emulatorOptions(hostPort: string): Promise<{ apiEndpoint: string; port: number; sslCreds: unknown }> {
  const hp = splitHostPort(hostPort);
  if (!hp) throw new Error(`not a host:port: ${JSON.stringify(hostPort)}`);
  const { grpc } = await import('google-gax');
  return { apiEndpoint: hp.host, port: hp.port, sslCreds: grpc.credentials.createInsecure() };
}

export async function createSccClient(config: Pick<Config, 'sccEmulatorHost'>): Promise<SccClient> {
  const { v2: sccV2 } = await import('@google-cloud/security-center');
  const options = config.sccEmulatorHost ? await emulatorOptions(config.sccEmulatorHost) : {};
  return new sccV2.SecurityCenterClient(options as ConstructorParameters<typeof sccV2.SecurityCenterClient>[0]);
}
