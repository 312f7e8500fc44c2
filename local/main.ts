/**
 * `npm start`: the whole registry on this machine. Data under ARCA_DATA_DIR (default .arca/), API on
 * ARCA_PORT (default 4100), admin token printed and kept in ARCA_DATA_DIR/token.
 */
import { checkJava, JavaMissingError } from './dynamo.ts';
import { startLocal } from './server.ts';

const started = Date.now();
try {
  checkJava();
  // One line per request (request id, method, path, status, time): the id is the one in the API's error bodies.
  const registry = await startLocal({ requestLog: (line) => console.log(`${new Date().toISOString()} ${line}`) });
  console.log(`Arca is running at ${registry.url}  (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  console.log(`  admin token: ${registry.token}  (kept in ${registry.dataDir}/token)`);
  console.log(`  data:        ${registry.dataDir}`);
  console.log(`  S3 endpoint: ${registry.s3Url}  (presigned URLs point here)`);
  console.log(`  try:         curl -H "authorization: Bearer ${registry.token}" ${registry.url}/v1/assets`);
  console.log('Press Ctrl+C to stop.');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    registry.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('arca local: stop failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (error) {
  if (error instanceof JavaMissingError) {
    console.error(`arca local: ${error.message}`);
    process.exit(2);
  }
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`arca local: port ${process.env.ARCA_PORT ?? 4100} is in use; set ARCA_PORT to another port`);
    process.exit(1);
  }
  console.error('arca local: failed to start', error);
  process.exit(1);
}
