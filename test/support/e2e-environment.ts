// The e2e files' jest environment: Node's, plus a sweep when a file's run is over. After the
// file's last afterAll (jest's `run_finish` event) it closes whatever the harnesses registered
// and nobody closed (test/support/cleanup.ts), newest first, each within 15 s, and says so.
// Not a setupFilesAfterEnv afterAll: jest runs afterAll hooks in the order they were declared,
// so one declared by a setup file would run before the file's own afterAll, not after it.
import { TestEnvironment } from 'jest-environment-node';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { relative } from 'node:path';
import { OPEN_RESOURCES, type OpenResource } from './cleanup';

const CLOSE_TIMEOUT_MS = 15_000;

export default class E2eEnvironment extends TestEnvironment {
  private readonly testPath: string;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.testPath = relative(config.projectConfig.rootDir, context.testPath);
  }

  async handleTestEvent(event: { name: string }): Promise<void> {
    if (event.name === 'run_finish') await this.closeLeftovers();
  }

  override async teardown(): Promise<void> {
    await this.closeLeftovers(); // a file that never reached run_finish (failed to load)
    await super.teardown();
  }

  private async closeLeftovers(): Promise<void> {
    const open = (this.global as unknown as Record<symbol, Set<OpenResource> | undefined>)[
      OPEN_RESOURCES
    ];
    if (!open) return;
    const left = [...open].filter((r) => r.isOpen()).reverse();
    open.clear();
    if (left.length === 0) return;
    process.stderr.write(
      `[cleanup] ${this.testPath} left open: ${left.map((r) => r.label).join(', ')}; closing them\n`,
    );
    for (const r of left) {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        r.close().then(
          () => undefined,
          (e: unknown) => `failed: ${String(e)}`,
        ),
        new Promise<string>((resolve) => {
          timer = setTimeout(
            () => resolve(`still open after ${CLOSE_TIMEOUT_MS} ms`),
            CLOSE_TIMEOUT_MS,
          );
        }),
      ]);
      clearTimeout(timer);
      if (outcome) process.stderr.write(`[cleanup] ${this.testPath}: ${r.label} ${outcome}\n`);
    }
  }
}
