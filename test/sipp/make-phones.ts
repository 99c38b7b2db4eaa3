/**
 * Writes a sipp injection file of N phones spread over R realms (see register.xml for the fields).
 *
 *   npx ts-node --transpile-only test/sipp/make-phones.ts --count 1000 --realms 10 \
 *     --out /tmp/phones.csv [--expires 600] [--prefix user] [--domain harness.test]
 *
 * Phone i (1-based) is user<i> in realm ((i-1) mod R)+1, so with the defaults phone 1 is
 * user0001@realm01.harness.test with Call-ID user-1@harness, exactly like the fixtures.
 * The Call-ID of line i must be "<prefix>-<i>@harness": sipp can only send Call-IDs it generated
 * itself from -cid_str (%u = call number = line number), see sipp.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface Phone {
  username: string;
  realm: string;
  callId: string;
  userAgent: string;
  /** 12 lower-case hex digits; the Contact carries +sip.instance="<urn:uuid:...-<mac>>". */
  mac: string;
  /** Expires the phone asks for, seconds. */
  expires: number;
}

export interface MakePhonesOptions {
  count: number;
  realms: number;
  /** Seconds, or per phone (1-based index). Default 600. */
  expires?: number | ((index: number) => number);
  /** Call-ID prefix: Call-ID is "<prefix>-<index>@harness". Default "user". */
  callIdPrefix?: string;
  /** Realm suffix: realm01.<domain>. Default "harness.test". */
  domain?: string;
  /** Username prefix. Default "user". */
  userPrefix?: string;
}

/** Desk-phone vendors: User-Agent and the vendor's MAC prefix (OUI). */
const VENDORS: ReadonlyArray<{ ua: string; oui: string }> = [
  { ua: 'Yealink SIP-T46G 66.86.0.15', oui: '001565' },
  { ua: 'Polycom/5.9.5.0614 PolycomVVX-VVX_410-UA/5.9.5.0614', oui: '0004f2' },
  { ua: 'Grandstream GXP2170 1.0.11.3', oui: '000b82' },
  { ua: 'Cisco/SPA504G-7.6.2c', oui: 'e05fb9' },
  { ua: 'snom760/10.1.54.13', oui: '000413' },
];

export const CALL_ID_HOST = 'harness';

export function makePhones(opts: MakePhonesOptions): Phone[] {
  const {
    count,
    realms,
    callIdPrefix = 'user',
    domain = 'harness.test',
    userPrefix = 'user',
  } = opts;
  if (!(count > 0 && realms > 0)) throw new Error('count and realms must be > 0');
  if (!/^[A-Za-z0-9_.~-]+$/.test(callIdPrefix)) throw new Error('callIdPrefix: [A-Za-z0-9_.~-]');
  const userWidth = Math.max(4, String(count).length);
  const realmWidth = Math.max(2, String(realms).length);
  const phones: Phone[] = [];
  for (let i = 1; i <= count; i++) {
    const vendor = VENDORS[(i - 1) % VENDORS.length];
    const r = ((i - 1) % realms) + 1;
    phones.push({
      username: `${userPrefix}${String(i).padStart(userWidth, '0')}`,
      realm: `realm${String(r).padStart(realmWidth, '0')}.${domain}`,
      callId: `${callIdPrefix}-${i}@${CALL_ID_HOST}`,
      userAgent: vendor.ua,
      // vendor OUI + 24 bits of the index: unique per phone up to 16M phones
      mac: vendor.oui + (i & 0xffffff).toString(16).padStart(6, '0'),
      expires: typeof opts.expires === 'function' ? opts.expires(i) : (opts.expires ?? 600),
    });
  }
  return phones;
}

/**
 * sipp injection file: "SEQUENTIAL" then one ';'-separated line per phone. The 7th field is the
 * skip flag of register.xml (always written, so sipp never logs "Field 6 not found").
 */
export function phonesCsv(
  phones: readonly Phone[],
  skip?: (p: Phone, i: number) => boolean,
): string {
  const lines = phones.map((p, i) => {
    const fields = [p.username, p.realm, p.callId, p.userAgent, p.mac, String(p.expires)];
    for (const f of fields) if (/[;\n\r]/.test(f)) throw new Error(`';' or newline in field: ${f}`);
    fields.push(skip?.(p, i) ? '1' : '0');
    return fields.join(';');
  });
  return ['SEQUENTIAL', ...lines, ''].join('\n');
}

export function writePhonesCsv(file: string, phones: readonly Phone[]): void {
  writeFileSync(file, phonesCsv(phones));
}

export function readPhonesCsv(file: string): Phone[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [username, realm, callId, userAgent, mac, expires] = l.split(';');
      return { username, realm, callId, userAgent, mac, expires: Number(expires) };
    });
}

/** The Contact a phone sends from a sipp bound to host:port (register.xml's Contact line). */
export function contactOf(p: Phone, localPort: number, transport: 'UDP' | 'TCP' = 'UDP'): string {
  return (
    `<sip:${p.username}@127.0.0.1:${localPort};transport=${transport}>` +
    `;+sip.instance="<urn:uuid:00000000-0000-1000-8000-${p.mac}>"`
  );
}

function main(argv: string[]): void {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const out = arg('out');
  if (!out) {
    console.error(
      'usage: make-phones.ts --out FILE [--count 1000] [--realms 10] [--expires 600] [--prefix user] [--domain harness.test]',
    );
    process.exit(2);
  }
  const phones = makePhones({
    count: Number(arg('count') ?? 1000),
    realms: Number(arg('realms') ?? 10),
    expires: Number(arg('expires') ?? 600),
    callIdPrefix: arg('prefix') ?? 'user',
    domain: arg('domain') ?? 'harness.test',
  });
  writePhonesCsv(out, phones);
  console.log(`${phones.length} phones over ${arg('realms') ?? 10} realms written to ${out}`);
}

if (require.main === module) main(process.argv.slice(2));
