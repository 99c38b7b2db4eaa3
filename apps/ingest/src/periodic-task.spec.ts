// PeriodicTask.wake(): the change relay is woken by the ingest's commits instead of waiting for
// its poll. What a user notices: a change reaches subscribers without the poll's delay, the
// relay never runs twice at once, a relay that is off stays off, and a failing one keeps its
// backoff (no retry storm against a broker that is down, at the ingest's commit rate).
import { PeriodicTask } from './periodic-task';

const HOUR = 3_600_000;

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A task whose runs are counted and held open until release() is called. */
function counted(next: number | (() => number), fail = false) {
  let runs = 0;
  let active = 0;
  let maxActive = 0;
  let release: () => void = () => undefined;
  const task = new PeriodicTask(
    'test',
    async () => {
      runs++;
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => (release = r));
      active--;
      if (fail) throw new Error('broker down');
      return typeof next === 'number' ? next : next();
    },
    () => undefined,
    { initialBackoffMs: HOUR, maxBackoffMs: HOUR },
  );
  return {
    task,
    runs: () => runs,
    active: () => active,
    maxActive: () => maxActive,
    release: () => release(),
  };
}

const tasks: PeriodicTask[] = [];
afterEach(async () => {
  for (const t of tasks.splice(0)) await t.stop();
});

it('wake() cuts the wait for the next run short', async () => {
  const c = counted(HOUR);
  tasks.push(c.task);
  c.task.start();
  await until('the first run', () => c.runs() === 1);
  c.release();
  await until('the first run to end', () => c.active() === 0);
  c.task.wake(); // an hour early
  await until('a second run', () => c.runs() === 2);
  c.release();
});

it('wake() during a run starts the next one right after it, never beside it', async () => {
  const c = counted(HOUR);
  tasks.push(c.task);
  c.task.start();
  await until('the first run', () => c.runs() === 1);
  c.task.wake();
  c.task.wake();
  expect(c.runs()).toBe(1); // not beside the run in progress
  c.release();
  await until('the run that follows at once', () => c.runs() === 2);
  expect(c.maxActive()).toBe(1);
  c.release();
});

it('wake() does not start a task that was never started (the relay switched off)', async () => {
  const c = counted(HOUR);
  tasks.push(c.task);
  c.task.wake();
  await new Promise((r) => setTimeout(r, 50)); // would a run have started?
  expect(c.runs()).toBe(0);
});

it('wake() does not cut a backoff after a failure short', async () => {
  const c = counted(HOUR, true);
  tasks.push(c.task);
  c.task.start();
  await until('the first run', () => c.runs() === 1);
  c.release();
  await until('the failed run to end', () => c.active() === 0);
  c.task.wake();
  await new Promise((r) => setTimeout(r, 50)); // would a retry have started?
  expect(c.runs()).toBe(1);
});
