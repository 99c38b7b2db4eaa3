// Nothing outlives its file: a file whose beforeAll failed after starting the ingest app (and
// whose afterAll then threw) still has the app, its broker connection and its pool closed when
// it ends — jest exits by itself, and no consumer is left on the test queues to take the next
// files' messages (issue 12).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TestBroker, T } from '../support/amqp';

const ROOT = join(__dirname, '../..');

/** The e2e project for the files of test/runner/fixtures only; no global setup (already done). */
function fixturesConfig(): string {
  const load = createRequire(__filename);
  const { projects } = load(join(ROOT, 'jest.config.js')) as {
    projects: Record<string, unknown>[];
  };
  const e2e = projects.find((p) => p.displayName === 'e2e');
  return JSON.stringify({
    ...e2e,
    displayName: 'runner-fixtures',
    testMatch: ['<rootDir>/test/runner/fixtures/*.fixture.ts'],
    globalSetup: undefined,
  });
}

function runJest(config: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [require.resolve('jest/bin/jest', { paths: [ROOT] }), '--config', config, '--runInBand'],
      { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // Far longer than the run needs: jest that does not exit is the failure this test is about.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`jest did not exit within 100 s:\n${output}`));
    }, 100_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

let broker: TestBroker;
beforeAll(async () => {
  broker = await TestBroker.open();
});
afterAll(async () => {
  await broker?.close();
});

it('closes what a file whose beforeAll failed left open, and jest exits', async () => {
  const { code, output } = await runJest(fixturesConfig());
  expect(code).toBe(1); // the file failed, and jest said so by exiting
  expect(output).toContain('beforeAll failed on purpose');
  expect(output).toContain(
    '[cleanup] test/runner/fixtures/before-all-fails.fixture.ts left open: ingest app, test broker connection, pg pool; closing them',
  );
  expect(output).not.toMatch(/Jest did not exit/);
  const ch = await broker.conn.createChannel();
  try {
    expect((await ch.checkQueue(T.kazooQueue.name)).consumerCount).toBe(0);
    expect((await ch.checkQueue(T.freeswitchQueue.name)).consumerCount).toBe(0);
  } finally {
    await ch.close();
  }
}, 120_000);
