/**
 * The registry's business metrics, as the domain sees them: a count under a fixed name. The API's middy
 * stack (./http.ts) and the jobs flush them as EMF; domain code never touches Powertools.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from './observability.ts';

export type MetricName = 'VersionsCreated' | 'VersionsPublished' | 'CapRefusals' | 'ChecksumMismatches';

export function count(name: MetricName, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}
