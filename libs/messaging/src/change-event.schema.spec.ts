import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHANGE_EVENT_SCHEMA } from './change-event.schema';

it('docs/change-event.schema.json is the schema the service serves', () => {
  const doc: unknown = JSON.parse(
    fs.readFileSync(path.resolve(__dirname, '../../../docs/change-event.schema.json'), 'utf8'),
  );
  expect(doc).toEqual(CHANGE_EVENT_SCHEMA);
});
