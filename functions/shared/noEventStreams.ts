/**
 * Stands in for `@smithy/core/event-streams` in the function bundles (esbuild `--alias`, `functionBundling` in
 * lib/registry.ts), as lambdaCredentials.ts does for the credential chain. The SDK's protocols reach the event-stream
 * codec through a dynamic import that esbuild inlines, ~15 KiB of every bundle, and the S3 client builds a
 * marshaller at construction; but no operation the functions call streams events (S3's SelectObjectContent would).
 * Should one ever, it fails with this module's name rather than with a malformed request.
 */
interface SerdeConfig {
  eventStreamSerdeProvider: (config: unknown) => unknown;
}

function notBundled(): never {
  throw new Error('event streams are not bundled into Arca functions (functions/shared/noEventStreams.ts)');
}

/** The SDK's own resolver, verbatim: the client config gets the provider's marshaller. */
export const resolveEventStreamSerdeConfig = <T extends SerdeConfig>(input: T): T & { eventStreamMarshaller: unknown } =>
  Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

export const eventStreamSerdeProvider = (): { serialize: () => never; deserialize: () => never } => ({ serialize: notBundled, deserialize: notBundled });

export class EventStreamSerde {
  constructor() {
    notBundled();
  }
}
