// One-contact flush commands: Kamailio's reg_flush carries Call-ID and Contact (our extension),
// FreeSWITCH gets flush_inbound_reg with the Call-ID on the switch that holds the binding.
import type { ContactFlushTarget } from '@app/persistence';
import { contactFlushCommands } from './contact-flush-commands';

const target = (over: Partial<ContactFlushTarget>): ContactFlushTarget => ({
  id: 1,
  origin: 'kazoo',
  realm: 'Acme.example.net',
  username: '1001',
  fs_profile: null,
  fs_hostname: null,
  call_id: 'abc@10.0.0.1',
  contact_uri: 'sip:1001@192.0.2.10:5060',
  ...over,
});
const keyOf = (host: string | null) => (host ? `key-${host}` : 'commandBindingKey');

describe('contactFlushCommands', () => {
  it('names the contact in a Kazoo reg_flush for Kamailio bindings', () => {
    const [cmd, ...rest] = contactFlushCommands([target({})], keyOf);
    expect(rest).toEqual([]);
    expect(cmd.exchange).toBe('registrar');
    expect(cmd.routingKey).toBe('registration.flush.Acme%2Eexample%2Enet');
    expect(JSON.parse(cmd.body.toString())).toMatchObject({
      'Event-Category': 'directory',
      'Event-Name': 'reg_flush',
      Realm: 'Acme.example.net',
      Username: '1001',
      'Call-ID': 'abc@10.0.0.1',
      Contact: 'sip:1001@192.0.2.10:5060',
    });
  });

  it('sends flush_inbound_reg <call-id> to the switch holding a FreeSWITCH binding', () => {
    const cmds = contactFlushCommands(
      [
        target({ id: 2, origin: 'freeswitch', fs_profile: 'sipinterface_1', fs_hostname: 'fs1' }),
        target({ id: 3, origin: 'freeswitch', call_id: null, fs_hostname: null }),
      ],
      keyOf,
    );
    expect(cmds.map((c) => [c.exchange, c.routingKey, c.body.toString()])).toEqual([
      ['TAP.Commands', 'key-fs1', 'sofia profile sipinterface_1 flush_inbound_reg abc@10.0.0.1'],
      // No Call-ID: only the user's registrations can be named.
      [
        'TAP.Commands',
        'commandBindingKey',
        'sofia profile internal flush_inbound_reg 1001@Acme.example.net',
      ],
    ]);
  });

  it('sends each command once', () => {
    expect(contactFlushCommands([target({ id: 1 }), target({ id: 1 })], keyOf)).toHaveLength(1);
  });
});
