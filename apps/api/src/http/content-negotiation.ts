// Which of an API's representations answers an Accept header. Ranges are weighed by q, an exact
// type beating a wildcard at equal q, the first offer (the API's default) winning remaining ties
// and answering when nothing acceptable is offered.

export interface Offer {
  contentType: string;
}

export interface Representation extends Offer {
  format: 'json' | 'xml';
}

/** sipXcom: JSON by default, XML for `application/xml` or `text/xml`. */
export const SIPXCOM_OFFERS: Representation[] = [
  { format: 'json', contentType: 'application/json' },
  { format: 'xml', contentType: 'application/xml' },
  { format: 'xml', contentType: 'text/xml' },
];

function matchOf(range: string, type: string): number {
  if (range === type) return 3;
  if (range === `${type.split('/')[0]}/*`) return 2;
  return range === '*/*' ? 1 : 0;
}

export function negotiate<T extends Offer>(accept: string | undefined, offers: readonly T[]): T;
export function negotiate(accept: string | undefined): Representation;
export function negotiate(
  accept: string | undefined,
  offers: readonly Offer[] = SIPXCOM_OFFERS,
): Offer {
  if (!accept?.trim()) return offers[0];
  let best = offers[0];
  let bestScore = [0, 0];
  for (const offer of offers) {
    let score = [0, 0];
    for (const part of accept.toLowerCase().split(',')) {
      const [range, ...params] = part.split(';').map((s) => s.trim());
      const q = params.find((p) => p.startsWith('q='));
      const weight = q === undefined ? 1 : Number(q.slice(2)) || 0;
      // The most specific range that matches decides (q=0 there refuses the type).
      const specificity = matchOf(range, offer.contentType);
      if (specificity > score[1]) score = [weight, specificity];
    }
    if (score[0] === 0) continue;
    if (score[0] > bestScore[0] || (score[0] === bestScore[0] && score[1] > bestScore[1])) {
      best = offer;
      bestScore = score;
    }
  }
  return best;
}
