/**
 * A gRPC proxy in front of one emulator that can fail, delay or garble chosen
 * calls. It forwards raw bytes (no decoding), so it serves any service; the
 * emulator behind it still validates and records every call that reaches it.
 *
 * Why a proxy: "malformed response" has to be bytes the client cannot
 * decode, which an emulator built on the real protos cannot produce; and the
 * SCC emulator is being changed by someone else right now. A malformed
 * answer is sent after the call was forwarded, i.e. the write landed but its
 * answer is garbage — the case where a retry must converge, not duplicate.
 */
import grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export type ProxyAction =
  | { kind: 'status'; code: grpc.status; message?: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'malformed' };

export interface ProxyRule {
  /** RPC name, e.g. "UpdateSecurityMarks". */
  method: string;
  /** Calls of the method to let through first (counted from when the rule is added). */
  skip?: number;
  /** Calls the action applies to after that; default every one. */
  times?: number;
  action: ProxyAction;
}

export interface ProxiedCall {
  method: string;
  /** What the proxy did: forwarded, or the action's kind. */
  handling: 'forwarded' | ProxyAction['kind'];
}

export interface FaultProxy {
  /** 127.0.0.1:PORT, for the *_EMULATOR_HOST variables. */
  readonly endpoint: string;
  /** Every call received, oldest first (including those answered by a rule without reaching the emulator). */
  readonly calls: readonly ProxiedCall[];
  rule(rule: ProxyRule): void;
  clearRules(): void;
  stop(): Promise<void>;
}

/**
 * A tag for field 2047 with wire type 7, which protobuf does not have: every
 * decoder rejects it ("invalid wire type 7"), whatever the message, and the
 * client reports INTERNAL. (Truncated length-delimited fields are no good:
 * protobufjs reads a short string without complaint.)
 */
export const MALFORMED_RESPONSE = Buffer.from([0xff, 0x7f]);

const localRequire = createRequire(import.meta.url);

/** A client package's service and its unary RPC names, from the package's own client config. */
export interface ServiceSpec {
  /** e.g. google.cloud.securitycenter.v2.SecurityCenter */
  service: string;
  /** Path of the package's *_client_config.json, as require.resolve takes it. */
  clientConfig: string;
  /** RPCs that stream (registered as unary they would be wrong); the function calls none of them. */
  streaming?: readonly string[];
}

export const SCC_SERVICE: ServiceSpec = { service: 'google.cloud.securitycenter.v2.SecurityCenter', clientConfig: '@google-cloud/security-center/build/src/v2/security_center_client_config.json' };
export const GKE_SERVICE: ServiceSpec = { service: 'google.container.v1.ClusterManager', clientConfig: '@google-cloud/container/build/src/v1/cluster_manager_client_config.json' };
export const LOGGING_SERVICE: ServiceSpec = {
  service: 'google.logging.v2.LoggingServiceV2',
  clientConfig: '@google-cloud/logging-api/build/src/v2/logging_service_v2_client_config.json',
  streaming: ['TailLogEntries'],
};
// Pub/Sub's generated clients left @google-cloud/pubsub for @google-cloud/pubsub-api in pubsub 6.0.0 (test/emulators/pubsub-emulator.ts).
export const PUBSUB_PUBLISHER_SERVICE: ServiceSpec = { service: 'google.pubsub.v1.Publisher', clientConfig: '@google-cloud/pubsub-api/build/src/v1/publisher_client_config.json' };
export const CONTACTS_SERVICE: ServiceSpec = { service: 'google.cloud.essentialcontacts.v1.EssentialContactsService', clientConfig: '@google-cloud/essential-contacts/build/src/v1/essential_contacts_service_client_config.json' };

function methodsOf(spec: ServiceSpec): string[] {
  const config = JSON.parse(readFileSync(localRequire.resolve(spec.clientConfig), 'utf8')) as { interfaces: Record<string, { methods: Record<string, unknown> }> };
  const methods = config.interfaces[spec.service]?.methods;
  if (!methods) throw new Error(`${spec.service} not in ${spec.clientConfig}`);
  return Object.keys(methods).filter((m) => !(spec.streaming ?? []).includes(m));
}

const identity = (b: Buffer): Buffer => b;

/** Longest stop() waits for calls still in flight (the fault matrix delays calls by 2.5 s). */
const STOP_DRAIN_MS = 5000;

interface ArmedRule extends ProxyRule {
  seen: number;
}

export async function startFaultProxy(upstream: string, spec: ServiceSpec): Promise<FaultProxy> {
  const client = new grpc.Client(upstream, grpc.credentials.createInsecure());
  const rules: ArmedRule[] = [];
  const calls: ProxiedCall[] = [];

  /** The first rule whose window this call falls into; every rule of the method counts the call. */
  function actionFor(method: string): ProxyAction | null {
    let chosen: ProxyAction | null = null;
    for (const r of rules) {
      if (r.method !== method) continue;
      const index = r.seen++;
      const skip = r.skip ?? 0;
      if (chosen === null && index >= skip && (r.times === undefined || index < skip + r.times)) chosen = r.action;
    }
    return chosen;
  }

  let inFlight = 0;
  const idleWaiters: Array<() => void> = [];
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of methodsOf(spec)) {
    const path = `/${spec.service}/${method}`;
    definition[method] = { path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
    implementation[method] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, answer: grpc.sendUnaryData<Buffer>) => {
      inFlight++;
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        if (--inFlight === 0) for (const resolve of idleWaiters.splice(0)) resolve();
      };
      call.on('cancelled', finish);
      const callback: grpc.sendUnaryData<Buffer> = (err, value) => {
        finish();
        answer(err, value);
      };
      const action = actionFor(method);
      calls.push({ method, handling: action === null ? 'forwarded' : action.kind });
      if (action?.kind === 'status') {
        callback({ code: action.code, details: action.message ?? `injected by the fault proxy: ${grpc.status[action.code]}` });
        return;
      }
      const forward = (): void => {
        if (call.cancelled) return;
        // A call that outlives the test (the shared audit read goes on after its triage gives up) may arrive
        // after the proxy closed its upstream channel: answer it UNAVAILABLE instead of throwing.
        let upstreamCall: grpc.ClientUnaryCall;
        try {
          upstreamCall = client.makeUnaryRequest(path, identity, identity, call.request, call.metadata.clone(), { deadline: call.getDeadline() }, (err, response) => {
            if (err) callback(err);
            else callback(null, action?.kind === 'malformed' ? MALFORMED_RESPONSE : response);
          });
        } catch (err) {
          callback({ code: grpc.status.UNAVAILABLE, details: `fault proxy: upstream closed (${(err as Error).message})` });
          return;
        }
        call.on('cancelled', () => upstreamCall.cancel());
      };
      if (action?.kind === 'delay') {
        const timer = setTimeout(forward, action.ms);
        call.on('cancelled', () => clearTimeout(timer));
      } else {
        forward();
      }
    };
  }

  const server = new grpc.Server();
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );

  return {
    endpoint: `127.0.0.1:${port}`,
    calls,
    rule(rule) {
      rules.push({ ...rule, seen: 0 });
    },
    clearRules() {
      rules.length = 0;
    },
    async stop() {
      // A delayed call outlives the test that armed it; let it finish while the test file's environment exists:
      // answered after jest tore it down, the client's callback would run (and fail) inside the next test file.
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          idleWaiters.push(resolve);
          setTimeout(resolve, STOP_DRAIN_MS).unref();
        });
      }
      client.close();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
