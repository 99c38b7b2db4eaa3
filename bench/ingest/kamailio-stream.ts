// The traffic of bench:ingest: what Kamailio's kazoo module publishes when every phone of a
// platform registers at once (after an outage, a first start), then refreshes. Kamailio-shaped
// reg_success messages only, each with the Custom-Channel-Vars Kazoo's authentication puts on
// it (Account-ID, Account-Name, Account-Realm…), over `accounts` accounts (one realm each).
import {
  kazooRegSuccess,
  makePhones,
  mulberry32,
  TrafficMessage,
  uuid,
} from '../../scripts/traffic/traffic-generator';

export interface KamailioWaves {
  /** One First-Registration per phone: every binding, extension and change row is new. */
  storm: TrafficMessage[];
  /** One refresh per phone (same Call-ID and contact), a minute later: an update per binding. */
  refresh: TrafficMessage[];
}

export function kamailioWaves(phones: number, accounts: number, startUs: number): KamailioWaves {
  const all = makePhones({ phones, realms: accounts, fsShare: 0 });
  const rng = mulberry32(0x5708);
  // Kamailio answers a storm at a few thousand REGISTERs a second: stamp them at that pace.
  const at = (i: number) => startUs + Math.floor(i / 4) * 1000;
  return {
    storm: all.map((p, i) => kazooRegSuccess(p, 'register', at(i), uuid(rng))),
    refresh: all.map((p, i) => kazooRegSuccess(p, 'refresh', at(i) + 60e6, uuid(rng))),
  };
}
