/**
 * The delivery worker's wiring (the SQS worker and local mode), apart from runtime.ts so that the API functions,
 * which read hooks but never post to them, bundle no URL guard (ipaddr.js).
 */
import { httpPoster, type DeliveryPorts } from '../events/deliver.ts';
import { hookStore, hooksEnv, secretBox } from './runtime.ts';

/** What a webhook delivery needs, from this configuration (the SQS worker and local mode). */
export function deliveryPorts(): DeliveryPorts {
  const box = secretBox();
  return {
    getHook: (id) => hookStore.get(id),
    openSecret: (id, sealed) => box.open(id, sealed),
    recordDelivery: (record) => hookStore.recordDelivery(record),
    post: httpPoster(hooksEnv.policy),
    retry: hooksEnv.retry,
  };
}
