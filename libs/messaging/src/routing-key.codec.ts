// Routing-key segment encoding shared by Kazoo, Kamailio and FreeSWITCH (wire-formats.md §1):
// letters, digits, '-', '~', '_' stay; '.' → %2E; ' ' → '+'; any other byte → %XX (upper hex).
// A segment that is exactly '*' or '#' is a wildcard and stays as it is.

/** Characters to encode (a whole character: a non-ASCII one is encoded as its UTF-8 bytes). */
const ENCODE = /[^A-Za-z0-9\-~_]/gu;

function encodeChar(ch: string): string {
  if (ch === '.') return '%2E'; // every realm has some: the common case first
  if (ch === ' ') return '+';
  let out = '';
  for (const byte of Buffer.from(ch, 'utf8'))
    out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

/**
 * One replace over the segment, not a Buffer and a test per byte: the change relay encodes a
 * realm and a username per change (1 µs each way before, at storm rates).
 */
export function encodeSegment(segment: string): string {
  if (segment === '*' || segment === '#') return segment;
  return segment.replace(ENCODE, encodeChar);
}

export function decodeSegment(segment: string): string {
  return decodeURIComponent(segment.replace(/\+/g, ' '));
}

export function routingKey(...segments: string[]): string {
  return segments.map(encodeSegment).join('.');
}
