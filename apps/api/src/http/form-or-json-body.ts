// Bodies sent as application/x-www-form-urlencoded. `curl -d '{"data":{…}}'` (and many Kazoo
// scripts) send JSON under that content type; Kazoo's crossbar (api_util
// handle_url_encoded_body) notices a body that is one bare key and reads it as JSON. So do we
// a body that parses as a JSON object or array is that JSON; anything else is a form.
import { parse as parseQuery } from 'node:querystring';
import sjson from 'secure-json-parse';

export function formOrJsonBody(body: string): unknown {
  const text = body.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      // As Fastify's JSON parser: __proto__ and constructor.prototype keys are refused.
      return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch (e) {
      if (e instanceof SyntaxError && /prototype|__proto__/.test(e.message)) throw e;
      // not JSON after all: a form whose first key starts with a brace
    }
  }
  return { ...parseQuery(body) };
}
