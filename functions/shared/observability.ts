/**
 * The service's tracer and metrics, one of each per execution environment (the logger is ./logger.ts).
 * Both switch themselves off outside Lambda: the tracer needs AWS_EXECUTION_ENV (and honours
 * POWERTOOLS_TRACE_ENABLED=false), metrics honour POWERTOOLS_METRICS_DISABLED, which local mode and the
 * test fixtures set. The stack writes POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE
 * (lib/registry.ts); the fallbacks are the same names, so EMF read anywhere lands in one namespace.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { logger } from './logger.ts';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'arca';

export const tracer = new Tracer({ serviceName });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'Arca',
  serviceName,
  // Without a logger of its own, Metrics warns on stderr after every request that counted nothing (most
  // reads), even when disabled; Powertools' answer is a custom logger (powertools-lambda-typescript#2036).
  logger: logger.createChild({ logLevel: 'ERROR' }),
});
