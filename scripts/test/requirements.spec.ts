// A missing program is one line naming what to install.
import {
  assertInstalled,
  installLine,
  MissingRequirementError,
  REQUIREMENTS,
} from './requirements';

describe('requirements', () => {
  it('names every program once, each with its Debian package', () => {
    const names = REQUIREMENTS.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const r of REQUIREMENTS) expect(r.apt).toMatch(/^[a-z0-9.+-]+$/);
  });

  it('says what is missing and the one command that installs it, on one line', () => {
    const line = installLine(REQUIREMENTS.filter((r) => r.name.startsWith('kamailio')));
    expect(line).not.toContain('\n');
    expect(line).toContain('missing: kamailio, kamailio kazoo module (kazoo.so)');
    expect(line).toContain(
      'apt-get install -y kamailio kamailio-kazoo-modules kamailio-sqlite-modules kamailio-postgres-modules',
    );
  });

  it('throws that line at once when a harness needs a program that is not there', () => {
    const before = process.env.SIPP_BIN;
    process.env.SIPP_BIN = '/nonexistent/sipp';
    try {
      expect(() => assertInstalled(['sipp'])).toThrow(MissingRequirementError);
      expect(() => assertInstalled(['sipp'])).toThrow(
        /^missing: sipp — install with: .*sip-tester/,
      );
    } finally {
      if (before === undefined) delete process.env.SIPP_BIN;
      else process.env.SIPP_BIN = before;
    }
  });
});
