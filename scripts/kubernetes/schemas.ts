import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as monitoring from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import { describe, type K8sObject } from './manifests';

/*
 * Each object against its API's JSON schema, as kubernetes-models ships them (Kubernetes' OpenAPI,
 * and the CRDs of KEDA and the Prometheus operator), so no cluster and no download is needed.
 */

interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data: unknown): { validate(): void };
}

function isModel(value: unknown): value is ModelClass {
  return typeof value === 'function' && typeof (value as Partial<ModelClass>).kind === 'string';
}

/** apiVersion/kind → its model, for every kind of the API groups callsync's manifests use. */
const MODELS = new Map<string, ModelClass>(
  [core, apps, batch, policy, autoscaling, networking, keda, monitoring]
    .flatMap((group) => Object.values(group))
    .filter(isModel)
    .map((model) => [`${model.apiVersion}/${model.kind}`, model]),
);

/** One problem per object that its schema rejects, or whose kind has no schema here. */
export function checkSchemas(objects: readonly K8sObject[]): string[] {
  return objects.flatMap((obj) => {
    const Model = MODELS.get(`${obj.apiVersion}/${obj.kind}`);
    if (!Model) return [`${describe(obj)}: no schema for ${obj.apiVersion} ${obj.kind} to check it against`];
    try {
      new Model(obj).validate();
      return [];
    } catch (err) {
      return [`${describe(obj)} does not match the ${obj.apiVersion} ${obj.kind} schema: ${(err as Error).message}`];
    }
  });
}
