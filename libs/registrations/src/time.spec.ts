// Kazoo's API speaks Gregorian seconds (Erlang's calendar, from year 0); the store speaks µs.
import { GREGORIAN_OFFSET_S, unixToGregorian } from './time';

describe('Gregorian seconds', () => {
  it('uses the Erlang offset between 0000-01-01 and 1970-01-01', () => {
    expect(GREGORIAN_OFFSET_S).toBe(62167219200);
    expect(unixToGregorian(0)).toBe(62167219200);
  });

  it('converts unix 1414159766 to 63581378966 and back', () => {
    expect(unixToGregorian(1414159766)).toBe(63581378966);
    expect(63581378966 - GREGORIAN_OFFSET_S).toBe(1414159766);
  });

  it("reads Kazoo's documented event_timestamp 63581321366 as 2014-10-23T22:09:26Z", () => {
    // wire-formats.md §5 calls it 2014-10-24: true only in time zones UTC+2 and east of it.
    const d = new Date((63581321366 - GREGORIAN_OFFSET_S) * 1000);
    expect(d.toISOString()).toBe('2014-10-23T22:09:26.000Z');
    expect(unixToGregorian(d.getTime() / 1000)).toBe(63581321366);
  });

  it('drops fractions of a second', () => {
    expect(unixToGregorian(1414159766.999)).toBe(63581378966);
    expect(unixToGregorian(new Date('2014-10-24T14:09:26.750Z').getTime() / 1000)).toBe(
      63581378966,
    );
  });
});
