/**
 * Writes the OpenAPI document (contract/openapi.ts) to the file named: the function that serves
 * `GET /v1/openapi.json` carries it beside its bundle (lib/registry.ts), so the generator is not in the bundle.
 *
 *   node --import tsx bin/openapi-json.ts <file>
 */
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../contract/openapi.ts';

const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: node --import tsx bin/openapi-json.ts <file>');
writeFileSync(file, JSON.stringify(openApiDocument()));
