// First, so that a bundle's traces are mapped from its first module on.
import './bundleStackTraces.ts';
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'arca' });
