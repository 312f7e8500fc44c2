/**
 * The service's tracer and metrics, one of each per execution environment (the logger is ./logger.ts).
 * Both switch themselves off outside Lambda: the tracer needs AWS_EXECUTION_ENV (and honours
 * POWERTOOLS_TRACE_ENABLED=false), metrics honour POWERTOOLS_METRICS_DISABLED, which local mode and the
 * test fixtures set. The stack writes POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE
 * (lib/registry.ts); the fallbacks are the same names, so EMF read anywhere lands in one namespace.
 *
 * The Powertools tracer (and the X-Ray SDK under it, ~90 KiB of every bundle) is loaded only when
 * `process.env.ARCA_SDK_TRACER` is not 'false'. The stack replaces that expression at bundle time
 * (esbuild `define`, `functionBundling` in lib/registry.ts): with `tracing: 'sdk'` it is 'true', otherwise
 * 'false', the branch below is dead code and esbuild leaves the tracer out of the bundle. Unbundled
 * (tests, local mode) it is read from the environment and the tracer is there, switched off by itself.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { logger } from './logger.ts';

type MiddlewareLikeObj = ReturnType<typeof captureLambdaHandler>;

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'arca';

interface SdkTracing {
  tracer: Tracer;
  /** Powertools' handler segment; responses are not recorded (they carry presigned URLs and credentials). */
  segment: MiddlewareLikeObj;
}

async function loadTracer(): Promise<SdkTracing> {
  const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([import('@aws-lambda-powertools/tracer'), import('@aws-lambda-powertools/tracer/middleware')]);
  const tracer = new Tracer({ serviceName });
  return { tracer, segment: captureLambdaHandler(tracer, { captureResponse: false }) };
}

const sdk = process.env.ARCA_SDK_TRACER === 'false' ? undefined : await loadTracer();

/** The Powertools tracer; `undefined` in a bundle built without it. */
export const tracer: Tracer | undefined = sdk?.tracer;

/** The handler segment middleware; `undefined` without the tracer. */
export const handlerSegment: MiddlewareLikeObj | undefined = sdk?.segment;

/** An AWS SDK client with a subsegment per call when the tracer is bundled (and on); the client itself otherwise. */
export const traceClient = <T>(client: T): T => (tracer ? tracer.captureAWSv3Client(client) : client);

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'Arca',
  serviceName,
  // Without a logger of its own, Metrics warns on stderr after every request that counted nothing (most
  // reads), even when disabled; Powertools' answer is a custom logger (powertools-lambda-typescript#2036).
  logger: logger.createChild({ logLevel: 'ERROR' }),
});
