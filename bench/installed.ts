/**
 * The package as a user gets it, for benches that measure what an install runs: packed (`npm pack`, whose
 * prepack builds dist/) and installed into an empty app folder under `dir`, as test/integration/pack.test.ts does.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Installs the packed package into `<dir>/app`; returns that folder and the installed `arca` executable. */
export async function installPackage(dir: string): Promise<{ app: string; arca: string }> {
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
  const app = path.join(dir, 'app');
  await mkdir(app);
  await writeFile(path.join(app, 'package.json'), '{"name":"app","private":true}\n');
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', path.join(dir, tarball)], { cwd: app, stdio: 'ignore' });
  return { app, arca: path.join(app, 'node_modules', '.bin', 'arca') };
}
