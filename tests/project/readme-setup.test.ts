// Issue 10 item 2: the README's set-up line must run as root without sudo (containers) and as a
// user through sudo, and run `apt-get update` first (a fresh machine's package lists are empty).
// The line runs here under sh with apt-get, sudo, id, npm and npx replaced by stubs that log.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../cli/fer-process.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const line = readme.split('\n').find((l) => l.includes('apt-get install'))!;
const dir = mkdtempSync(join(tmpdir(), 'fer-setup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runAs(uid: number): string[] {
  const bin = join(dir, `bin-${uid}`);
  const log = join(dir, `log-${uid}`);
  execFileSync('mkdir', ['-p', bin]);
  writeFileSync(log, '');
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('id', `[ "$1" = -u ] && echo ${uid}`);
  stub('sudo', `echo "sudo $*" >> ${log}; exec "$@"`);
  for (const tool of ['apt-get', 'npm', 'npx']) stub(tool, `echo "${tool} $*" >> ${log}`);
  execFileSync('/bin/sh', ['-c', line], { env: { PATH: `${bin}:/usr/bin:/bin` }, stdio: 'pipe' });
  return readFileSync(log, 'utf8').trim().split('\n');
}

describe("the README's set-up line", () => {
  it('as root: apt-get update, then install, with no sudo; then npm ci and the main job', () => {
    expect(runAs(0)).toEqual(['apt-get update', 'apt-get install -y chromium opencv-data libvulkan1', 'npm ci', 'npx fer train']);
  });

  it('as a user: the same through sudo', () => {
    expect(runAs(1000)).toEqual([
      'sudo apt-get update',
      'apt-get update',
      'sudo apt-get install -y chromium opencv-data libvulkan1',
      'apt-get install -y chromium opencv-data libvulkan1',
      'npm ci',
      'npx fer train',
    ]);
  });

  it('installs what .ci/run installs for the main job', () => {
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    for (const pkg of ['chromium', 'opencv-data', 'libvulkan1']) expect(ci).toContain(`need+=(${pkg})`);
    expect(ci).toMatch(/\$sudo apt-get update[\s\S]*\$sudo apt-get install/);
  });
});
