// Routing-key segment encoding shared by Kazoo, Kamailio and FreeSWITCH (wire-formats.md §1):
// letters, digits, '-', '~', '_' stay; '.' → %2E; ' ' → '+'; any other byte → %XX (upper hex).
// A segment that is exactly '*' or '#' is a wildcard and stays as it is.

const KEEP = /^[A-Za-z0-9\-~_]$/;

export function encodeSegment(segment: string): string {
  if (segment === '*' || segment === '#') return segment;
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && KEEP.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function decodeSegment(segment: string): string {
  return decodeURIComponent(segment.replace(/\+/g, ' '));
}

export function routingKey(...segments: string[]): string {
  return segments.map(encodeSegment).join('.');
}
