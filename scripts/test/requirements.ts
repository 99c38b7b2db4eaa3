// The programs the test suites need, in one place: `npm test` (scripts/test/run-tests.ts)
// checks them all before jest starts, and the harnesses that spawn one (Kamailio, sipp) check
// theirs first, so a missing program is one line naming what to install, never a time-out.
// To add one: a row below (how to see it is there, its Debian package, who needs it).
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Requirement {
  /** What is missing, as the user would name it. */
  name: string;
  /** Debian/Ubuntu package that provides it. */
  apt: string;
  /** Which tests need it. */
  usedBy: string;
  present(): boolean;
}

/** Where Debian's Kamailio keeps its modules (test/kamailio/kamailio.cfg.tmpl's mpath). */
export const KAMAILIO_MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';

const program = (bin: string, envOverride?: string) => (): boolean =>
  onPath((envOverride && process.env[envOverride]) || bin);
const kamailioModule = (so: string) => (): boolean => existsSync(join(KAMAILIO_MODULES, so));

export const REQUIREMENTS: readonly Requirement[] = [
  { name: 'kamailio', apt: 'kamailio', usedBy: 'test/kamailio', present: program('kamailio', 'KAMAILIO_BIN') },
  { name: 'kamailio kazoo module (kazoo.so)', apt: 'kamailio-kazoo-modules', usedBy: 'test/kamailio', present: kamailioModule('kazoo.so') },
  { name: 'kamailio sqlite module (db_sqlite.so)', apt: 'kamailio-sqlite-modules', usedBy: 'Kamailio with a sqlite location table', present: kamailioModule('db_sqlite.so') },
  { name: 'kamailio postgres module (db_postgres.so)', apt: 'kamailio-postgres-modules', usedBy: 'Kamailio with a Postgres location table', present: kamailioModule('db_postgres.so') },
  { name: 'sipp', apt: 'sip-tester', usedBy: 'test/kamailio (phones)', present: program('sipp', 'SIPP_BIN') },
  { name: 'chromium', apt: 'chromium', usedBy: 'browser tests', present: () => onPath('chromium') || onPath('chromium-browser') },
  { name: 'sqlite3', apt: 'sqlite3', usedBy: 'sqlite fixtures', present: program('sqlite3') },
]; // prettier-ignore

/** Which of `names` (default: all) are missing. */
export function missingRequirements(names?: readonly string[]): Requirement[] {
  return REQUIREMENTS.filter((r) => (!names || names.includes(r.name)) && !r.present());
}

/** The one line a user sees: what is missing and the command that installs it. */
export function installLine(missing: readonly Requirement[]): string {
  const pkgs = [...new Set(missing.map((r) => r.apt))].join(' ');
  return (
    `missing: ${missing.map((r) => r.name).join(', ')} — install with: ` +
    `sudo apt-get update && sudo apt-get install -y ${pkgs} (npm test installs them itself when run as root)`
  );
}

/** Throws the install line when one of `names` is missing (for harnesses that spawn them). */
export function assertInstalled(names: readonly string[]): void {
  const missing = missingRequirements(names);
  if (missing.length) throw new MissingRequirementError(installLine(missing));
}

export class MissingRequirementError extends Error {
  override name = 'MissingRequirementError';
}

export function onPath(bin: string): boolean {
  const candidates = bin.includes('/')
    ? [bin]
    : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, bin));
  return candidates.some((f) => {
    try {
      accessSync(f, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
