/**
 * Kubernetes objects as `kubectl get ... -o json` prints them, checked for
 * the fields the conversions in lib/gather/pod.ts, node.ts and namespace.ts
 * read (unknown fields pass through). kubectl prints the API server's JSON
 * and the client library's models use the same field names, so a checked
 * object is handed to the same conversion the gatherer uses; timestamps stay
 * text, which kubeTime reads as it reads the client's Date objects.
 * Reference: https://kubernetes.io/docs/reference/kubernetes-api/
 */
import type { V1Namespace, V1Node, V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { FieldError } from './log-entry-json.js';

const str = z.string();
const strings = z.record(z.string(), z.string());

const ownerReference = z.looseObject({ apiVersion: str, kind: str, name: str, controller: z.boolean().optional() });

const metadata = z.looseObject({
  name: str.optional(),
  namespace: str.optional(),
  labels: strings.optional(),
  annotations: strings.optional(),
  ownerReferences: z.array(ownerReference).optional(),
  creationTimestamp: str.optional(),
});

const securityContext = z.looseObject({
  privileged: z.boolean().optional(),
  runAsUser: z.number().int().optional(),
  runAsNonRoot: z.boolean().optional(),
  allowPrivilegeEscalation: z.boolean().optional(),
  capabilities: z.looseObject({ add: z.array(str).optional() }).optional(),
});

const container = z.looseObject({ name: str, image: str.optional(), securityContext: securityContext.optional() });

const podSchema = z.looseObject({
  kind: z.literal('Pod'),
  metadata,
  spec: z
    .looseObject({
      nodeName: str.optional(),
      serviceAccountName: str.optional(),
      serviceAccount: str.optional(),
      hostPID: z.boolean().optional(),
      hostNetwork: z.boolean().optional(),
      hostIPC: z.boolean().optional(),
      securityContext: securityContext.optional(),
      containers: z.array(container).optional(),
      initContainers: z.array(container).optional(),
      ephemeralContainers: z.array(container).optional(),
      volumes: z
        .array(
          z.looseObject({
            name: str,
            hostPath: z.looseObject({ path: str }).optional(),
            projected: z.looseObject({ sources: z.array(z.looseObject({})).optional() }).optional(),
          }),
        )
        .optional(),
    })
    .optional(),
  status: z
    .looseObject({
      phase: str.optional(),
      startTime: str.optional(),
      containerStatuses: z
        .array(z.looseObject({ name: str, image: str.optional(), imageID: str.optional(), restartCount: z.number().int().optional(), ready: z.boolean().optional() }))
        .optional(),
    })
    .optional(),
});

const nodeSchema = z.looseObject({
  kind: z.literal('Node'),
  metadata,
  status: z
    .looseObject({
      nodeInfo: z.looseObject({ osImage: str.optional(), kernelVersion: str.optional(), containerRuntimeVersion: str.optional() }).optional(),
    })
    .optional(),
});

const namespaceSchema = z.looseObject({ kind: z.literal('Namespace'), metadata });

const ownerObject = z.looseObject({ kind: str, apiVersion: str, metadata });
const listSchema = z.looseObject({ kind: z.literal('List'), items: z.array(ownerObject) });

function check<T>(schema: z.ZodType, json: unknown, hint: string): T {
  const result = schema.safeParse(json);
  if (result.success) return result.data as T;
  const issue = result.error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  const message = issue.path.length === 0 || (issue.path.length === 1 && issue.path[0] === 'kind') ? `${issue.message} (${hint})` : issue.message;
  throw new FieldError(path === '' ? '(root)' : path.replace(/^\./, ''), message);
}

export const readPod = (json: unknown): V1Pod => check(podSchema, json, 'expected one Pod, as kubectl get pod NAME -n NAMESPACE -o json prints it');
export const readNode = (json: unknown): V1Node => check(nodeSchema, json, 'expected one Node, as kubectl get node NAME -o json prints it');
export const readNamespace = (json: unknown): V1Namespace => check(namespaceSchema, json, 'expected one Namespace, as kubectl get namespace NAME -o json prints it');

export interface OwnerObject {
  kind: string;
  apiVersion: string;
  metadata: V1ObjectMeta;
}

/** A List as kubectl get replicaset,deployment,... -o json prints it. */
export const readOwners = (json: unknown): OwnerObject[] =>
  check<{ items: OwnerObject[] }>(listSchema, json, 'expected a List, as kubectl get replicaset,deployment,statefulset,daemonset,job,cronjob -n NAMESPACE -o json prints it').items;
