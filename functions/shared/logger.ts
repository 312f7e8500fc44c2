import { Logger } from '@aws-lambda-powertools/logger';
// First, so that a bundle's traces are mapped from its first module on.
import './bundleStackTraces.ts';

export const logger = new Logger({ serviceName: 'arca' });
