// Liberal scalars: proxies send numbers as strings and strings as numbers.
import { z } from 'zod';
import {
  describeIssues,
  looseBool,
  looseInt,
  looseNumber,
  looseString,
  port,
  requiredString,
} from './wire-types';

describe('looseInt / looseNumber', () => {
  it('accept numbers and numeric strings', () => {
    expect(looseInt.parse(600)).toBe(600);
    expect(looseInt.parse('600')).toBe(600);
    expect(looseInt.parse(' 600 ')).toBe(600);
    expect(looseInt.parse('-1')).toBe(-1);
    expect(looseNumber.parse('1795324509.25')).toBe(1795324509.25);
  });

  it('truncates fractions for integers', () => {
    expect(looseInt.parse('600.9')).toBe(600);
    expect(looseInt.parse(600.9)).toBe(600);
  });

  it('rejects non-numeric strings', () => {
    for (const bad of ['abc', '', '6 00', '1e3', '0x10'])
      expect(looseInt.safeParse(bad).success).toBe(false);
    expect(looseNumber.safeParse('abc').success).toBe(false);
  });
});

describe('looseBool', () => {
  it('accepts booleans and true/false strings in the usual cases', () => {
    expect(looseBool.parse(true)).toBe(true);
    expect(looseBool.parse('true')).toBe(true);
    expect(looseBool.parse('TRUE')).toBe(true);
    expect(looseBool.parse('False')).toBe(false);
    expect(looseBool.parse(false)).toBe(false);
  });

  it('rejects other values', () => {
    expect(looseBool.safeParse('yes').success).toBe(false);
  });
});

describe('looseString / requiredString', () => {
  it('turns numbers into strings and empty strings into absent', () => {
    expect(looseString.parse(5060)).toBe('5060');
    expect(looseString.parse('')).toBeUndefined();
    expect(looseString.parse('   ')).toBeUndefined();
    expect(looseString.parse('x')).toBe('x');
  });

  it('requiredString trims and refuses empty values', () => {
    expect(requiredString.parse(' 1001 ')).toBe('1001');
    expect(requiredString.parse(1001)).toBe('1001');
    expect(requiredString.safeParse('').success).toBe(false);
    expect(requiredString.safeParse('  ').success).toBe(false);
  });
});

describe('port', () => {
  it('keeps 1..65535 and treats 0, absent or out of range as unknown', () => {
    expect(port(5060)).toBe(5060);
    expect(port(65535)).toBe(65535);
    expect(port(0)).toBeUndefined();
    expect(port(undefined)).toBeUndefined();
    expect(port(65536)).toBeUndefined();
    expect(port(-1)).toBeUndefined();
  });
});

describe('describeIssues', () => {
  it('names the path of each issue, at most five', () => {
    const schema = z.object(
      Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [k, looseInt])),
    );
    const r = schema.safeParse({});
    if (r.success) throw new Error('expected a failure');
    const text = describeIssues(r.error);
    expect(text.split('; ')).toHaveLength(5);
    expect(text).toMatch(/^a: /);
    expect(text).not.toContain('f:');
  });
});
